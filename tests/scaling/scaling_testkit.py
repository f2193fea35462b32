"""Helpers of the scaling tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
LI_CSV = REPO / "fixtures" / "published" / "li2024_connected_vision_eval_loss.csv"
# Epoch AI's extraction states no licence, so it is never committed: COMPRESSBENCH_EPOCH_CSV names a copy
# (default: the one kept beside the repository's checkout, where there is one).
EPOCH_ENV = "COMPRESSBENCH_EPOCH_CSV"
EPOCH_CSV = Path(os.environ.get(EPOCH_ENV) or REPO.parent / "shared" / "data" / "epoch_chinchilla_svg_extracted.csv")
EPOCH_ORIGIN = "data/svg_extracted_data.csv of https://github.com/epoch-research/analyzing-chinchilla"
EPOCH_WHERE = "loss < 3.44"  # drops the 5 highest-loss runs (3.447 … 5.006), keeps 240


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point (python -m compressbench) with this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "compressbench", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd or REPO, timeout=300)


def assert_usage_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, one line on stderr naming the problem, no traceback."""
    assert proc.returncode == 2, proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def summary_row(dataset: str, modality: str, tokenizer: str, *, samples: int, raw_bytes: int, tokens: int,
                p10: float, p90: float, **counts) -> dict:
    return {"dataset": dataset, "modality": modality, "tokenizer": tokenizer, "samples": samples, "errors": 0,
            "raw_bytes": raw_bytes, "tokens": tokens, "compression": raw_bytes / tokens,
            "compression_p10": p10, "compression_p90": p90, **counts}


# A multimodal summary as the adapters will write it (audio/video rows carry duration_s).
# audio: 16 kHz mono 16-bit = 32,000 bytes/s; whisper 50 tokens/s; a codec at 75 Hz × 8 codebooks = 600 tokens/s.
# image: 224×224×3 = 150,528 bytes; ViT-L/14 at 224 px = 256 tokens.
# video: 1 s of 320×240 at 24 fps = 5,529,600 bytes; 1568 tokens per 16-frame clip.
CODEC = "codec:encodec_24khz,codebooks=8,count=codebook_tokens"  # the name a run gives `codec` (plans say "codec")
MULTIMODAL_ROWS = [
    summary_row("web", "text", "tiktoken:o200k_base", samples=10, raw_bytes=4_500_000, tokens=1_000_000,
                p10=3.5, p90=5.5, chars=4_000_000, words=800_000),
    summary_row("web", "text", "bytes", samples=10, raw_bytes=4_500_000, tokens=4_500_000, p10=1.0, p90=1.0,
                chars=4_000_000, words=800_000),
    summary_row("speech", "audio", "whisper", samples=4, raw_bytes=32_000 * 100, tokens=50 * 100, p10=600.0,
                p90=680.0, duration_s=100.0),
    summary_row("speech", "audio", CODEC, samples=4, raw_bytes=32_000 * 100, tokens=600 * 100, p10=53.0,
                p90=54.0, duration_s=100.0),
    summary_row("photos", "image", "vit:vit_large_patch14_clip_224", samples=5, raw_bytes=150_528 * 5,
                tokens=256 * 5, p10=500.0, p90=700.0),
    summary_row("photos", "image", "qwen2vl", samples=5, raw_bytes=150_528 * 5, tokens=64 * 5, p10=2000.0,
                p90=2600.0),
    summary_row("clips", "video", "videomae", samples=2, raw_bytes=5_529_600 * 10, tokens=1568 * 10,
                p10=3000.0, p90=4000.0),  # no duration_s: hours of video cannot be converted
]


def write_plan(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def synthetic_runs(law: dict, *, seed: int = 1, noise: float = 0.005) -> pd.DataFrame:
    """Runs drawn from a Chinchilla law on a 7 × 7 grid of N and D, with multiplicative log-normal noise."""
    from compressbench.scaling.laws import chinchilla

    rng = np.random.default_rng(seed)
    N, D = (a.ravel() for a in np.meshgrid(np.logspace(7.5, 10.5, 7), np.logspace(9, 12.5, 7)))
    loss = chinchilla(N, D, **law) * np.exp(rng.normal(0, noise, N.size))
    return pd.DataFrame({"params": N, "tokens": D, "flops": 6 * N * D, "loss": loss})
