"""Limits, worker processes with a per-sample timeout, and fuzzed input through the real runner."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compressbench.data.suite import Dataset, Suite
from compressbench.parallel import ordered_map
from compressbench.runner import RunOptions, run_suite
from tests.conftest import UDHR, cli


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blobs=st.lists(_mutations((UDHR / "rus.txt").read_bytes()[:400]), min_size=1, max_size=4))
def test_fuzzed_text_never_crashes_the_run(tmp_path_factory, blobs):
    folder = tmp_path_factory.mktemp("fuzz")
    for i, blob in enumerate(blobs):
        (folder / f"{i}.txt").write_bytes(blob)
    suite = Suite(name="fuzz", datasets=(Dataset(name="f", modality="text", paths=(str(folder),)),),
                  tokenizers=("bytes", "tiktoken:cl100k_base", "sp:fixtures/tokenizers/udhr-unigram.model"),
                  base=Path.cwd())
    rows: list[dict] = []
    started = time.perf_counter()
    result = run_suite(suite, emit=rows.append, options=RunOptions())
    assert len(rows) == 3 * len(blobs)
    for row in rows:
        assert (row["error"] is None) == (row["tokens"] is not None and row["tokens"] > 0)
        assert row["error"] is None or "\n" not in row["error"]
    assert result.failed == sum(r["error"] is not None for r in rows)
    assert time.perf_counter() - started < 30
