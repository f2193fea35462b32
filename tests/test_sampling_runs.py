"""``run --sample`` end to end on Parquet row groups, JSONL files and tar shards."""

from __future__ import annotations

import heapq
import json

import pytest

from compressbench.core.confidence import half_width
from compressbench.data import reading
from compressbench.data.formats.base import unit_id
from compressbench.data.sampling import SampleSpec, key
from compressbench.data.suite import load_suite
from compressbench.reports.summary import build_summary
from compressbench.results import PriorRows
from compressbench.runner import RunOptions, run_suite
from tests.conftest import cli
from tests.corpora.test_runs import _containers

TIMING = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}


def _rows(summary):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in summary["rows"]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    suite, count = _containers(tmp)
    loaded = load_suite(suite)
    every: dict[str, list[str]] = {}
    run_suite(loaded, emit=lambda r: every.setdefault(r["dataset"], []).append(r["sample"]))
    return suite, loaded, {name: sorted(set(ids)) for name, ids in every.items()}


@pytest.mark.slow
def test_same_seed_same_sample_whatever_the_workers_and_shards_merge_into_it(corpus, tmp_path):
    suite, _, every = corpus
    whole = tmp_path / "whole"
    proc = cli("run", str(suite), "--sample", "12", "--seed", "3", "--batch-size", "5", "--workers", "1",
               "--out", str(whole))
    assert proc.returncode == 0, proc.stderr[-2000:]
    drawn: dict[str, set[str]] = {}
    for line in (whole / "results.jsonl").open():
        row = json.loads(line)
        drawn.setdefault(row["dataset"], set()).add(row["sample"])
    for name, ids in every.items():  # the 12 records with the smallest keys, recomputed here
        assert drawn[name] == set(heapq.nsmallest(12, ids, key=lambda i: key(3, i)))
    shards = [tmp_path / f"s{k}" for k in (1, 2)]
    for k, out in enumerate(shards, 1):
        proc = cli("run", str(suite), "--sample", "12", "--seed", "3", "--workers", "2", "--shard", f"{k}/2",
                   "--out", str(out))
        assert proc.returncode == 0, proc.stderr[-2000:]
    merged = tmp_path / "merged"
    assert cli("merge", *map(str, shards), "--out", str(merged)).returncode == 0
    a, b = (json.loads((d / "summary.json").read_text()) for d in (whole, merged))
    assert _rows(a) == _rows(b) and a["datasets"] == b["datasets"]
    row = a["rows"][1]
    assert row["sampled_samples"] == 12 and row["population_samples"] == len(every[row["dataset"]])
    assert row["compression_ci_low"] < row["compression"] < row["compression_ci_high"]
    assert a["provenance"]["sampling"] == {"sample": "12", "seed": 3, "precision": None, "sample_by": "record"}
    proc = cli("run", str(suite), "--sample", "13", "--seed", "3", "--out", str(whole), "--resume")
    assert proc.returncode == 2 and "sampling changed" in proc.stderr
    manifest = json.loads((whole / "run.json").read_text())
    del manifest["sampling"]["sample_by"]  # as a compressbench from before --sample-by wrote it: records
    (whole / "run.json").write_text(json.dumps(manifest))
    proc = cli("run", str(suite), "--sample", "12", "--seed", "3", "--out", str(whole), "--resume")
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = cli("run", str(suite), "--precision", "1", "--shard", "1/2", "--out", str(tmp_path / "p"))
    assert proc.returncode == 2 and "--precision decides when to stop from the whole dataset" in proc.stderr


def test_an_exhaustive_run_has_a_zero_width_interval(corpus):
    _, loaded, every = corpus
    for row in build_summary(run_suite(loaded))["rows"]:
        assert row["compression_ci_low"] == row["compression"] == row["compression_ci_high"]
        assert row["sampled_samples"] == row["population_samples"] == len(every[row["dataset"]])
        assert row["population_raw_bytes_estimate"] == row["population_raw_bytes_ci_high"] == row["raw_bytes"]


def test_a_share_keeps_each_record_whose_key_is_below_it(corpus):
    _, loaded, every = corpus
    rows: list[dict] = []
    run_suite(loaded, emit=rows.append, sampling=SampleSpec(share=0.3, seed=5))
    for name, ids in every.items():
        assert {r["sample"] for r in rows if r["dataset"] == name} == {i for i in ids if key(5, i) < 0.3}


def test_a_sample_opens_only_the_row_groups_and_files_holding_sampled_records(corpus, monkeypatch):
    _, loaded, every = corpus
    opened: list[str] = []
    read = reading.records

    def spy(ds, unit, *, max_bytes, keep=None):
        opened.append(unit_id(unit))
        return read(ds, unit, max_bytes=max_bytes, keep=keep)

    monkeypatch.setattr(reading, "records", spy)
    rows: list[dict] = []
    run_suite(loaded, emit=rows.append, sampling=SampleSpec(count=3, seed=1))
    groups = {f"{r['sample'].partition('#')[0]}@{int(r['sample'].partition('#')[2]) // 4}"
              for r in rows if r["dataset"] == "table"}
    assert {u for u in opened if ".parquet@" in u} == groups and len(groups) <= 3
    assert sum(".jsonl" in u for u in opened) == 4  # streams are read once, each


def test_precision_draws_rounds_until_the_interval_is_narrow_enough_and_resumes_to_the_same_sample(corpus,
                                                                                                 tmp_path):
    _, loaded, every = corpus
    spec = SampleSpec(count=4, seed=2, precision=8.0)
    rows: list[dict] = []
    result = run_suite(loaded, emit=rows.append, sampling=spec)
    for (name, _, _), group in result.groups.items():
        info = result.datasets[name]
        assert info["sample_rounds"][0] == "4" and len(info["sample_rounds"]) >= 2
        width = half_width(group.total.sample_moments(), population=info["population_samples"],
                           sampled=group.total.samples)
        assert 100 * width < 8.0 or group.total.samples == len(every[name])
    resumed_rows: list[dict] = []
    resumed = run_suite(loaded, emit=resumed_rows.append, sampling=spec, prior_rows=rows[: len(rows) * 2 // 3])
    assert resumed.datasets == result.datasets
    assert len(rows[: len(rows) * 2 // 3]) + len(resumed_rows) == len(rows)
    # as `run --resume` does: the rows streamed from results.jsonl, read again to plan each round
    written = tmp_path / "results.jsonl"
    written.write_text("".join(json.dumps(r) + "\n" for r in rows[: len(rows) * 2 // 3]), encoding="utf-8")
    again: list[dict] = []
    from_file = run_suite(loaded, emit=again.append, sampling=spec, prior_rows=PriorRows(written))
    assert from_file.datasets == result.datasets and len(again) == len(resumed_rows)


def test_report_and_predict_show_the_sampling_interval(corpus):
    from compressbench.reports.markdown import render_report
    from compressbench.scaling.mix import forecast_component
    from compressbench.scaling.plan import Component

    _, loaded, _ = corpus
    sampled = build_summary(run_suite(loaded, sampling=SampleSpec(count=20, seed=4)))
    exhaustive = build_summary(run_suite(loaded))
    report = render_report(sampled, [])
    row = next(r for r in sampled["rows"] if r["dataset"] == "table" and r["tokenizer"] != "bytes")
    assert f"{row['compression_ci_low']:#.4g} – {row['compression_ci_high']:#.4g}" in report
    assert "C 95% CI" not in render_report(exhaustive, [])
    component = Component("text", "text", row["tokenizer"], 1.0, "GB", dataset="table")
    forecast = forecast_component(component, sampled["rows"], "plan")
    assert forecast.measured.interval == "sampling 95% CI of C"
    assert forecast.tokens_low == pytest.approx(1e9 / row["compression_ci_high"])
    assert forecast.tokens_high == pytest.approx(1e9 / row["compression_ci_low"])
    whole = forecast_component(component, exhaustive["rows"], "plan")
    assert whole.measured.interval == "per-sample C spread p10..p90"
    full = next(r for r in exhaustive["rows"] if r["dataset"] == "table" and r["tokenizer"] == row["tokenizer"])
    assert whole.tokens_low == pytest.approx(1e9 / full["compression_p90"])


def test_a_seed_without_a_sample_is_refused(tmp_path):
    proc = cli("run", "--seed", "3", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "--seed" in proc.stderr and "--sample" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", [str(1 << 63), "9" * 70])
def test_a_seed_too_large_to_key_the_draw_is_one_line(tmp_path, value):
    proc = cli("run", "--sample", "1", "--seed", value, "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--seed" in proc.stderr and "9223372036854775807" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_negative_and_64_bit_seeds_draw():
    for seed in (-(1 << 63), -1, (1 << 63) - 1):
        spec = SampleSpec.parse("1", seed=seed)
        assert 0 <= key(spec.seed, "a.txt") < 1
