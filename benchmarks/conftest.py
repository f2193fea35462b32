"""Shared benchmark data: the same corpus for compressbench and for the bare library it wraps."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UDHR = ROOT / "fixtures" / "text" / "udhr"


@pytest.fixture(scope="session")
def udhr_bytes() -> list[bytes]:
    """The UDHR in 26 languages, as the files' bytes (about 450 KB)."""
    return [p.read_bytes() for p in sorted(UDHR.glob("*.txt"))]


@pytest.fixture(scope="session")
def udhr_texts(udhr_bytes) -> list[str]:
    return [b.decode("utf-8") for b in udhr_bytes]


def rates(benchmark, raw_bytes: int, tokens: int = 0) -> None:
    """MB/s of raw data and tokens/s from the mean time (absent under --benchmark-disable)."""
    stats = getattr(benchmark, "stats", None)
    mean = stats.stats.mean if stats is not None else None
    if mean:
        benchmark.extra_info["raw_mb_per_s"] = raw_bytes / 1e6 / mean
        if tokens:
            benchmark.extra_info["tokens_per_s"] = tokens / mean


@pytest.fixture(autouse=True)
def cuda_peak_memory(request):
    """On a CUDA benchmark, record the peak GPU memory it allocated (``cuda_max_memory_bytes`` in extra_info)."""
    callspec = getattr(request.node, "callspec", None)
    device = callspec.params.get("device", "") if callspec is not None else ""
    if not str(device).startswith("cuda") or "benchmark" not in request.fixturenames:
        yield
        return
    import torch

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    yield
    torch.cuda.synchronize()
    request.getfixturevalue("benchmark").extra_info["cuda_max_memory_bytes"] = torch.cuda.max_memory_allocated()
