"""Decode in worker processes: --workers 2 and 1 against --in-process on the same media (2 cores here).

Every row of the group runs the real runner over the image and audio fixtures
with the same tokenizers; compare their means (the ratio column). On these
small fixtures (18 files, 20 MB decoded) starting the spawned worker processes
(about 0.4 s: each imports compressbench, PyAV and Pillow) costs about as much
as the decoding it spreads over the two cores; --workers pays off when decode
time per run is many seconds. ``in-process`` decodes in the main process (no
worker, no isolation from a decoder that crashes): the cost of supervision. Measure it here with
``pytest benchmarks/test_workers.py --benchmark-only`` (docs/performance.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compressbench.data.suite import Dataset, Suite
from compressbench.runner import RunOptions, build_tokenizers, run_suite

ROOT = Path(__file__).resolve().parent.parent
SUITE = Suite(
    name="workers",
    datasets=(Dataset(name="photos", modality="image", paths=("fixtures/image",), base=ROOT),
              Dataset(name="sounds", modality="audio", paths=("fixtures/audio",), base=ROOT)),
    tokenizers=("qwen2vl", "whisper"),
    base=ROOT,
)


@pytest.mark.parametrize("workers", ["in-process", 1, 2])
def test_run_with_workers(benchmark, workers):
    tokenizers = build_tokenizers(SUITE.tokenizers, device="cpu", base=ROOT)
    benchmark.group = "run image+audio fixtures by --workers"
    options = RunOptions(in_process=True) if workers == "in-process" else RunOptions(workers=workers)
    result = benchmark.pedantic(lambda: run_suite(SUITE, tokenizers=tokenizers, options=options), rounds=3, iterations=1)
    assert result.failed == 0
    raw = sum(g.total.total("raw_bytes") for g in result.groups.values())
    benchmark.extra_info["raw_mb"] = raw / 1e6
