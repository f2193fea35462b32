"""The Ray engine's start-up against the local engine: the demo suite, start to finish, on each.

Each round of ``ray`` starts a local Ray instance, runs the suite with ``--workers 2`` actors and
shuts Ray down, as ``compressbench run --engine ray`` does (less the command's own start). On a
suite this small (nine files of four modalities) the round is mostly start-up: Ray itself, one pool
of actors for the whole run (not one per dataset) and each actor's imports and tokenizers; the
ratio to ``local`` is what that start-up costs. Measure it with
``pytest benchmarks/test_ray.py --benchmark-only`` (docs/performance.md).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from compressbench.data.suite import load_suite
from compressbench.runner import RunOptions, build_tokenizers, run_suite

DEMO = Path(__file__).resolve().parent.parent / "compressbench" / "demo" / "suite.toml"


def _ray(suite, tokenizers):
    import ray

    from compressbench.engines.ray_data import run_suite_ray

    try:
        return run_suite_ray(suite, tokenizers=tokenizers, options=RunOptions(workers=2))
    finally:
        ray.shutdown()


@pytest.mark.parametrize("engine", ["local", pytest.param("ray", marks=pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray is not installed: pip install 'compressbench[ray]'"))])
def test_demo_suite_by_engine(benchmark, engine):
    suite = load_suite(DEMO)
    tokenizers = build_tokenizers(suite.tokenizers, device="cpu", base=suite.base)
    benchmark.group = "demo suite by engine (start to finish)"
    run = (lambda: _ray(suite, tokenizers)) if engine == "ray" else (
        lambda: run_suite(suite, tokenizers=tokenizers, device="cpu", options=RunOptions(workers=2)))
    result = benchmark.pedantic(run, rounds=2, iterations=1)
    assert result.failed == 0 and result.provenance["engine"] == engine
