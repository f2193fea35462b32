"""Limits, worker processes with a per-sample timeout, and fuzzed input through the real runner."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compressbench.data.suite import Dataset, Suite
from compressbench.parallel import ordered_map
from compressbench.runner import RunOptions, build_tokenizers, run_suite
from tests.conftest import ROOT, UDHR, cli


def test_ordered_map_keeps_order_across_workers():
    assert list(ordered_map(abs, range(-20, 0), workers=2)) == list(range(20, 0, -1))


def test_a_stuck_item_times_out_and_the_rest_go_on():
    start = time.perf_counter()
    out = list(ordered_map(time.sleep, [0, 60, 0, 0], workers=2, timeout=3, on_timeout=lambda item: f"timeout {item}"))
    assert out == [None, "timeout 60", None, None]
    assert time.perf_counter() - start < 30  # the stuck worker was replaced, not waited for


def test_file_over_the_size_limit_is_an_error_row_naming_the_limit():
    proc = cli("measure", "-t", "bytes", "--max-file-bytes", "1000", "--json", str(UDHR / "eng.txt"))
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["results"][0]["error"]
    assert "over the limit of 1,000 (--max-file-bytes)" in error


def test_suite_decoder_options_are_checked(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "x"\nmodality = "text"\npaths = ["a"]\n'
                     'options = { max_pixels = 5 }\n')
    proc = cli("run", str(suite), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "unknown text decoder option(s) max_pixels; valid: encoding" in proc.stderr


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for index, bit in flips:
        out[index] ^= 1 << bit
    return bytes(out)


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, truncations and bit flips of a real fixture."""
    flips = st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 7)), max_size=8)
    return st.one_of(st.binary(max_size=300), st.integers(0, len(seed)).map(lambda n: seed[:n]),
                     flips.map(lambda fl: _flip(seed, fl)))


# modality: (a real fixture to mutate, its first bytes kept for speed, tokenizers to run)
SEEDS = {
    "text": ("fixtures/text/udhr/rus.txt", 400, ("bytes", "tiktoken:cl100k_base", "sp:fixtures/tokenizers/udhr-unigram.model")),
    "image": ("fixtures/image/rocket_strip_8x1.jpg", 8500, ("qwen2vl", "vit:vit_base_patch16_224")),
    "audio": ("fixtures/audio/speech_de_udhr_24k.mp3", 6000, ("whisper", "codec:encodec_24khz")),
    "video": ("fixtures/video/pan_hubble_h264_320x180.mp4", 60_000, ("tubelet", "qwen2vl-video")),
}


@pytest.mark.parametrize("modality", SEEDS)
def test_fuzzed_files_never_crash_the_run(tmp_path_factory, modality):
    path, keep, specs = SEEDS[modality]
    seed = (ROOT / path).read_bytes()[:keep]
    suffix = Path(path).suffix
    tokenizers = build_tokenizers(specs, device="cpu", base=ROOT)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(blobs=st.lists(_mutations(seed), min_size=1, max_size=3))
    def check(blobs: list[bytes]) -> None:
        folder = tmp_path_factory.mktemp("fuzz")
        for i, blob in enumerate(blobs):
            (folder / f"{i}{suffix}").write_bytes(blob)
        suite = Suite(name="fuzz", datasets=(Dataset(name="f", modality=modality, paths=(str(folder),)),),
                      tokenizers=specs, base=ROOT)
        rows: list[dict] = []
        started = time.perf_counter()
        # in-process: these are the decoders' Python-level failures, 45 runs without a worker's start-up each;
        # native crashes in supervised workers are tests/test_crash_isolation.py's
        result = run_suite(suite, emit=rows.append, tokenizers=tokenizers, options=RunOptions(in_process=True))
        assert len(rows) == len(specs) * len(blobs)
        for row in rows:
            assert (row["error"] is None) == (row["tokens"] is not None and row["tokens"] > 0)
            assert row["error"] is None or "\n" not in row["error"]
        assert result.failed == sum(r["error"] is not None for r in rows)
        assert time.perf_counter() - started < 60  # bounded time per sample, not a hang

    check()
