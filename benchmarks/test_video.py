"""Video throughput: decoding and tokenizing apart, each beside the bare library call on the same data.

One fixture clip (NASA's earth, 120 frames of 480x270 H.264) is decoded (PyAV
alone vs compressbench's decode_video) and tokenized (a bare torch Conv3d on
the same clip vs the tubelet adapter, and the other video adapters), on CPU and,
when a GPU is present, on CUDA with a warm-up round and synchronisation.
extra_info carries raw MB/s and tokens/s beside the timings:

    .venv/bin/python -m pytest benchmarks/test_video.py --benchmark-only --benchmark-group-by=group
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.conftest import rates
from compressbench import get_tokenizer
from compressbench.data.video import decode_video

CLIP = Path(__file__).resolve().parent.parent / "fixtures" / "video" / "earth_nasa_4s_480x270.mp4"
DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")])]
SPECS = ["tubelet", "qwen2vl-video", "frames:vit_large_patch14_clip_336,pool=2"]


@pytest.fixture(scope="module")
def data() -> bytes:
    return CLIP.read_bytes()


@pytest.fixture(scope="module")
def video(data):
    return decode_video(data).payload



def test_decode_bare_pyav(benchmark, data):
    import av

    def decode() -> int:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            return sum(frame.to_ndarray(format="rgb24").size for frame in container.decode(stream))

    benchmark.group = "decode video"
    raw = benchmark(decode)
    rates(benchmark, raw)


def test_decode_compressbench(benchmark, data):
    benchmark.group = "decode video"
    raw = benchmark(lambda: decode_video(data).raw_bytes)
    rates(benchmark, raw)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


@pytest.mark.parametrize("device", DEVICES)
def test_tokenize_bare_conv3d(benchmark, video, device):
    """The tensor work alone: upload, resize to 224^2, 16-frame clips (last padded), Conv3d 2x16x16, synchronise."""
    import torch.nn.functional as F

    conv = torch.nn.Conv3d(3, 8, kernel_size=(2, 16, 16), stride=(2, 16, 16), device=device).eval()
    frames = video.frames
    pad = -len(frames) % 16
    frames = np.concatenate([frames, frames[-1:].repeat(pad, axis=0)]) if pad else frames

    def run() -> int:
        with torch.inference_mode():
            x = torch.from_numpy(frames).to(device).permute(0, 3, 1, 2).float().div_(255)
            x = F.interpolate(x, size=(224, 224), mode="bicubic", align_corners=False, antialias=True)
            out = conv(x.reshape(-1, 16, 3, 224, 224).transpose(1, 2))
        _sync(device)
        return out.shape[0] * out.shape[2] * out.shape[3] * out.shape[4]

    benchmark.group = f"tokenize tubelet {device}"
    tokens = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    assert tokens == 8 * 1568
    rates(benchmark, video.frames.size, tokens)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SPECS)
def test_tokenize_compressbench(benchmark, video, spec, device):
    _time_count(benchmark, get_tokenizer(spec, device=device), video, f"tokenize {spec.split(':')[0]} {device}")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fidelity", [False, True], ids=["counts", "counts+fidelity"])
@pytest.mark.parametrize("spec", SPECS)
def test_tokenize_with_and_without_fidelity(benchmark, video, spec, device, fidelity):
    """The same adapter with and without input_psnr_db / input_ssim of the sampled frames (at most 8 of them):
    the ratio of the two means is the overhead docs/performance.md states."""
    tok = get_tokenizer(spec, device=device)
    tok.measure_fidelity = fidelity
    _time_count(benchmark, tok, video, f"fidelity overhead {spec} {device}")


def _time_count(benchmark, tok, video, group: str) -> None:
    """Time ``tok.count`` on the clip (device work included) and record the rates."""

    def run() -> int:
        tokens = tok.count(video).tokens
        tok.synchronize()
        return tokens

    benchmark.group = group
    tokens = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    rates(benchmark, video.frames.size, tokens)
