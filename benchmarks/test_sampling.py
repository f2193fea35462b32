"""``run --precision 1`` beside the exhaustive run on a Parquet corpus: time to ±1% on C, and bytes read,
drawing records (``--sample-by record``) and whole row groups (``--sample-by unit``).

The corpus is the fixtures' text cut into records of very different sizes and ratios (every UDHR
line in 26 languages, prose paragraphs, 8 KB chunks of Python code), repeated to
``COMPRESSBENCH_BENCH_RECORDS`` records (default 20,000; 1,000,000 gives the figures in
docs/performance.md) and shuffled (seed 0), in one Parquet file of ``COMPRESSBENCH_BENCH_ROW_GROUP``
rows per row group (default: records / 1,000, so 1,000 row groups). ``COMPRESSBENCH_BENCH_LAYOUT=ordered``
keeps the records in their order instead: each row group then holds lines of a few languages, or
code, alike within. The three runs tokenize with tiktoken cl100k_base in this process. Bytes read are
the process's ``rchar`` (/proc/self/io: every byte read through a system call) over the run.
``extra_info`` holds, per sampled run, the time ratio (exhaustive / sampled), the share of bytes
read, the records (and units) drawn and the rounds, and C with the sample's interval (one draw,
which like any 95% interval misses the exhaustive C for about one seed in twenty). Both sampled runs
must reach ±1% or exhaust the corpus, and the unit run must read less than the exhaustive one.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from compressbench.data.sampling import SampleSpec
from compressbench.data.suite import parse_suite
from compressbench.reports.summary import build_summary
from compressbench.runner import RunOptions, run_suite
from tests.test_sampling import heterogeneous_records

RECORDS = int(os.environ.get("COMPRESSBENCH_BENCH_RECORDS", "20000"))
ROW_GROUP = int(os.environ.get("COMPRESSBENCH_BENCH_ROW_GROUP", str(max(1, RECORDS // 1000))))
LAYOUT = os.environ.get("COMPRESSBENCH_BENCH_LAYOUT", "shuffled")
IO = Path("/proc/self/io")


def _corpus(folder: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = heterogeneous_records()
    records = [base[i % len(base)] for i in range(RECORDS)]
    if LAYOUT != "ordered":
        random.Random(0).shuffle(records)
    path = folder / "corpus.parquet"
    pq.write_table(pa.table({"text": records}), path, row_group_size=ROW_GROUP)
    return path


def _bytes_read() -> int:
    return int(next(line.split()[1] for line in IO.read_text().splitlines() if line.startswith("rchar:")))


def _run(path: Path, sampling: SampleSpec | None) -> tuple[dict, float, int]:
    suite = parse_suite({"tokenizers": ["tiktoken:cl100k_base"], "datasets": [
        {"name": "corpus", "modality": "text", "paths": [str(path)]}]}, source="bench", base=path.parent)
    before, start = _bytes_read(), time.perf_counter()
    result = run_suite(suite, device="cpu", options=RunOptions(workers=1, hash="none"), sampling=sampling)
    seconds, read = time.perf_counter() - start, _bytes_read() - before
    return {**build_summary(result)["rows"][0], **result.datasets["corpus"]}, seconds, read


def _figures(whole: tuple[dict, float, int], sampled: tuple[dict, float, int]) -> dict:
    """What a sampled run reached, beside the exhaustive one."""
    (full, full_s, full_read), (sample, sample_s, sample_read) = whole, sampled
    half = (sample["compression_ci_high"] - sample["compression_ci_low"]) / 2 / sample["compression"]
    assert half < 0.01 or sample["sampled_samples"] == RECORDS
    assert sample["population_samples"] == full["samples"] == RECORDS
    return {"sampled_records": sample["sampled_samples"], "sampled_units": sample.get("sampled_units"),
            "rounds": sample["sample_rounds"], "half_width_percent": round(100 * half, 3),
            "seconds": round(sample_s, 2), "time_ratio": round(full_s / sample_s, 2), "bytes_read": sample_read,
            "bytes_read_share": round(sample_read / full_read, 4), "c": sample["compression"],
            "ci": [sample["compression_ci_low"], sample["compression_ci_high"]]}  # one draw: misses 5% of seeds


@pytest.mark.skipif(not IO.exists(), reason="bytes read are measured with /proc/self/io (Linux)")
def test_precision_one_percent_vs_exhaustive(benchmark, tmp_path):
    path = _corpus(tmp_path)
    _run(path, SampleSpec(count=10))  # load the tokenizer and the imports before timing
    result = {}

    def all_three() -> None:
        result["exhaustive"] = _run(path, None)
        result["record"] = _run(path, SampleSpec(precision=1.0))
        result["unit"] = _run(path, SampleSpec(precision=1.0, sample_by="unit"))

    benchmark.group = "sampling"
    benchmark.pedantic(all_three, rounds=1, iterations=1)
    whole, whole_s, whole_read = result["exhaustive"]
    by_record, by_unit = _figures(result["exhaustive"], result["record"]), _figures(result["exhaustive"], result["unit"])
    assert by_unit["bytes_read"] < whole_read
    benchmark.extra_info.update({
        "records": RECORDS, "row_group_rows": ROW_GROUP, "row_groups": -(-RECORDS // ROW_GROUP), "layout": LAYOUT,
        "exhaustive_s": round(whole_s, 2), "exhaustive_bytes_read": whole_read, "exhaustive_c": whole["compression"],
        "sample_by_record": by_record, "sample_by_unit": by_unit,
    })
    print(f"\n--precision 1 vs exhaustive: {benchmark.extra_info}")
