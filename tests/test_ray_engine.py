"""The Ray engine on a local Ray instance gives the local engine's results."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.conftest import DEMO, cli

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed: pip install 'compressbench[ray]' to test --engine ray")

TIMING = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


@pytest.mark.slow
@needs_ray
def test_ray_engine_equals_local_engine(demo_run, tmp_path):
    local, ray = demo_run, tmp_path / "ray"
    proc = cli("run", DEMO, "--engine", "ray", "--workers", "2", "--out", str(ray))
    assert proc.returncode == 0, proc.stderr[-2000:]
    a, b = (json.loads((d / "summary.json").read_text()) for d in (local, ray))
    assert _strip(a["rows"]) == _strip(b["rows"])
    assert a["datasets"] == b["datasets"] and a["tokenizers"] == b["tokenizers"]
    assert b["provenance"]["engine"] == "ray"
    assert all(r["renyi_efficiency"] for r in b["rows"] if r["modality"] == "text")  # the ledger came through
    assert sorted((ray / "token_ids.jsonl").open()) == sorted((local / "token_ids.jsonl").open())
    key = lambda r: (r["dataset"], r["tokenizer"], r["sample"])  # noqa: E731
    rows = [sorted(_strip(json.loads(line) for line in (d / "results.jsonl").open()), key=key) for d in (local, ray)]
    assert rows[0] == rows[1]


def test_ray_engine_refuses_resume(tmp_path):
    """Refused before Ray is imported, so it holds (and is tested) without Ray too."""
    proc = cli("run", "--engine", "ray", "--resume", "--out", str(tmp_path))
    assert proc.returncode == 2 and "--resume works with the local engine" in proc.stderr


def test_the_driver_counts_each_sample_once_in_memory_that_does_not_grow(monkeypatch, tmp_path):
    """The rows actors send back (two tokenizers: two rows a sample) taken into a run without Ray: each
    sample counted once in its dataset's tally, as the local engine counts it, and nothing held per
    sample (the exact percentiles, lowered here, apart): 8 times the samples, the same memory."""
    import tracemalloc

    from compressbench.core import spread
    from compressbench.data.suite import load_suite
    from compressbench.engines.ray_data import _take
    from compressbench.reports.summary import build_summary
    from compressbench.runner import Run, RunOptions, build_tokenizers, run_suite
    from tests.conftest import UDHR

    monkeypatch.setattr(spread, "EXACT_SAMPLES", 250)
    lines = [line for line in (UDHR / "eng.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    (tmp_path / "lines.jsonl").write_text("".join(json.dumps({"text": line}) + "\n" for line in lines * 5),
                                          encoding="utf-8")
    (tmp_path / "suite.toml").write_text('tokenizers = ["bytes", "tiktoken:cl100k_base"]\n[[datasets]]\n'
                                         'name = "lines"\nmodality = "text"\npaths = ["lines.jsonl"]\n',
                                         encoding="utf-8")
    suite, rows = load_suite(tmp_path / "suite.toml"), []
    options = RunOptions(in_process=True, ledger=False)
    local = build_summary(run_suite(suite, emit=rows.append, options=options))
    tokenizers = build_tokenizers(suite.tokenizers, device="cpu", base=suite.base)

    def taken(copies: int) -> tuple[dict, int]:
        run = Run(suite, tokenizers, options=options, shard=None, prior_rows=(), emit=None)
        records = ({"row": json.dumps({**row, "sample": f"{row['sample']}#{k}" if k else row["sample"]}), "ids": ""}
                   for k in range(copies) for row in rows)
        tracemalloc.start()
        try:
            _take(run, records, {"lines": "bytes"})
            return run.result(engine="ray"), tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    once, few = taken(1)
    ray = build_summary(once)
    assert _strip(ray["rows"]) == _strip(local["rows"]) and ray["datasets"] == local["datasets"]
    assert ray["datasets"]["lines"]["samples"] == len(rows) // 2
    _, many = taken(8)
    assert many < few + 150_000, (few, many)  # a set of the ids held about 160 bytes a sample: 0.5 MB more


@pytest.fixture(scope="module")
def ray_here():
    """One local Ray instance in this process for the module's in-process runs: the first run starts it
    (as a run does when none is up), the module's end shuts it down."""
    import ray

    yield
    ray.shutdown()


@pytest.mark.slow
@needs_ray
def test_ray_shard_reads_the_local_shards_units(ray_here, tmp_path):
    """Parquet row groups, JSONL files and tar shards over HTTP: Ray's shard 1/2 is the local engine's."""
    from compressbench.data.suite import load_suite
    from compressbench.engines.ray_data import run_suite_ray
    from compressbench.reports.summary import build_summary
    from compressbench.runner import RunOptions, Shard, run_suite
    from tests.corpora.server import serve
    from tests.corpora.test_runs import _containers

    suite, _ = _containers(tmp_path)
    rows: list[dict] = []
    with serve(tmp_path) as url:
        text = suite.read_text()
        for path in ("table.parquet", "lines-*.jsonl.gz", "captions-*.tar"):
            text = text.replace(f'"{path}"', f'"{url}/{path}"')
        suite.write_text(text)
        loaded = load_suite(suite)
        a = build_summary(run_suite(loaded, shard=Shard(1, 2)))
        b = build_summary(run_suite_ray(loaded, shard=Shard(1, 2), options=RunOptions(workers=2), emit=rows.append))
    assert _strip(a["rows"]) == _strip(b["rows"]) and a["datasets"] == b["datasets"]
    assert rows and all(r["sample"].startswith(url) for r in rows) and not any(r["error"] for r in rows)
    assert b["provenance"]["shard"] == "1/2" and b["provenance"]["shard_scheme"] == "unit"


@pytest.mark.slow
@needs_ray
def test_ray_draws_the_local_engines_sample(ray_here, tmp_path):
    """The same seed samples the same records on Ray (Parquet row groups, JSONL and tar streams), drawing
    records over --precision rounds (datasets needing different numbers of rounds) or whole units."""
    from compressbench.data.sampling import SampleSpec
    from compressbench.data.suite import load_suite
    from compressbench.engines.ray_data import run_suite_ray
    from compressbench.reports.summary import build_summary
    from compressbench.runner import run_suite
    from tests.corpora.test_runs import _containers

    suite, _ = _containers(tmp_path)
    loaded = load_suite(suite)
    local = {}
    for spec in (SampleSpec(count=10, seed=7, precision=20.0), SampleSpec(share=0.5, seed=7, sample_by="unit")):
        a = local[spec.sample_by] = build_summary(run_suite(loaded, sampling=spec))
        b = build_summary(run_suite_ray(loaded, sampling=spec))  # one actor: the draw is the claim here
        assert _strip(a["rows"]) == _strip(b["rows"]) and a["datasets"] == b["datasets"]
        assert b["provenance"]["sampling"] == spec.provenance() and b["provenance"]["engine"] == "ray"
    rounds = {name: len(d["sample_rounds"]) for name, d in local["record"]["datasets"].items()}
    assert min(rounds.values()) >= 2 and len(set(rounds.values())) > 1  # one dataset stops while others go on
    units = local["unit"]["datasets"]["table"]
    assert 0 < units["sampled_units"] < units["population_units"]


@pytest.mark.slow
@needs_ray
def test_tokenizers_that_do_not_build_on_an_actor_stop_the_run_in_one_line(ray_here, tmp_path):
    """The driver builds the tokenizers, then the actors build them again from the specs: a file the
    actors cannot see (gone here; on a cluster, not on that node) is one ConfigError naming the dataset and
    the file, not a Ray traceback."""
    from compressbench.core.errors import ConfigError
    from compressbench.data.suite import load_suite
    from compressbench.engines.ray_data import run_suite_ray
    from compressbench.runner import RunOptions, build_tokenizers
    from tests.conftest import ROOT

    (tmp_path / "tok.json").write_bytes((ROOT / "fixtures" / "tokenizers" / "udhr-bpe.json").read_bytes())
    (tmp_path / "a.txt").write_text("hello world\n", encoding="utf-8")
    (tmp_path / "suite.toml").write_text('tokenizers = ["hf:tok.json"]\n[[datasets]]\nname = "t"\n'
                                         'modality = "text"\npaths = ["a.txt"]\n', encoding="utf-8")
    suite = load_suite(tmp_path / "suite.toml")
    tokenizers = build_tokenizers(suite.tokenizers, device="cpu", base=suite.base)
    (tmp_path / "tok.json").unlink()
    with pytest.raises(ConfigError) as caught:
        run_suite_ray(suite, tokenizers=tokenizers, options=RunOptions(workers=1))
    message = str(caught.value)
    assert "\n" not in message and "dataset 't'" in message and "tok.json: no such file" in message
    assert "Ray worker" in message
