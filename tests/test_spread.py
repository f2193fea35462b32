"""Per-sample C past the exact limit: memory that stops growing, percentiles within the sketch's relative
error of the sorted values, and halves merged in either regime equal to the whole, exactly."""

from __future__ import annotations

import math
import random
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compressbench.core import spread
from compressbench.core.aggregate import Aggregate
from compressbench.core.sample import Measurement
from compressbench.core.spread import RELATIVE_ACCURACY, SKETCHED, Spread
from tests.conftest import UDHR

LIMIT = 250  # EXACT_SAMPLES for these tests: the sketch regime without a hundred thousand samples


@pytest.fixture(autouse=True)
def small_limit(monkeypatch):
    monkeypatch.setattr(spread, "EXACT_SAMPLES", LIMIT)
    monkeypatch.setattr(spread, "BUFFER", 64)  # past the limit, values reach the buckets 64 at a time


def udhr_compressions() -> list[float]:
    """C of each UDHR line in every language under the bytes-per-word-ish ratio chars/words: real, spread
    values (not a formula of the index)."""
    values = []
    for path in sorted(UDHR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.split():
                values.append(len(line.encode("utf-8")) / len(line.split()))
    return values


def held_bytes(values: list[float]) -> int:
    tracemalloc.start()
    try:
        s = Spread()
        for v in values:
            s.add(v)
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def test_memory_stops_growing_past_the_limit():
    values = udhr_compressions()
    assert len(values) > 8 * LIMIT
    few, many = held_bytes(values[: 2 * LIMIT]), held_bytes(values * 4)
    assert many < 1.2 * few + 20_000, (few, many)  # four times the values and more: the same buckets
    assert held_bytes(values[:LIMIT]) > 8 * LIMIT  # below the limit every value is kept


def test_sketched_percentiles_lie_within_the_relative_error_of_the_sorted_values():
    values = udhr_compressions()
    s = Spread()
    for v in values:
        s.add(v)
    out = s.summary()
    assert out["compression_percentiles"] == SKETCHED == "DDSketch (relative error 0.5%)"
    ordered = sorted(values)
    for p in (10, 50, 90):
        rank = p / 100 * (len(ordered) - 1)
        low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
        assert low * (1 - RELATIVE_ACCURACY) <= out[f"compression_p{p}"] <= high * (1 + RELATIVE_ACCURACY), p
    assert out["compression_mean"] == math.fsum(values) / len(values)  # the mean stays exact


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3 * LIMIT), share=st.floats(0, 1), seed=st.integers(0, 10))
def test_halves_in_either_regime_merge_into_the_whole(n, share, seed):
    """Both halves exact (the whole exact, or not), one sketched, both sketched."""
    values = udhr_compressions()
    random.Random(seed).shuffle(values)
    values, cut = values[:n], round(share * n)
    rows = [Measurement("d", "text", "t", str(i), round(v * 100), round(v * 100), round(v * 100), 100, 0.0)
            for i, v in enumerate(values)]
    whole, first, second = Aggregate(), Aggregate(), Aggregate()
    for i, m in enumerate(rows):
        whole.add(m)
        (first if i < cut else second).add(m)
    assert first.merge(second).summary() == whole.summary()
    assert second.merge(first).summary() == whole.summary()


def test_exact_below_the_limit_matches_numpy():
    values = udhr_compressions()[:LIMIT]
    s = Spread()
    for v in values:
        s.add(v)
    out = s.summary()
    assert out["compression_percentiles"] == "exact"
    assert [out[f"compression_p{p}"] for p in (10, 50, 90)] == np.percentile(values, [10, 50, 90]).tolist()


def test_a_run_past_the_limit_says_its_percentiles_are_sketched(tmp_path):
    """A real run (in this process, so the lowered limit holds) of 600 UDHR lines as JSONL records: the
    summary row and report.md say how the percentiles were read, and they lie within the sketch's error of
    the per-sample C in results.jsonl."""
    import json

    from compressbench.cli import main

    lines = [line for line in (UDHR / "eng.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    records = tmp_path / "lines.jsonl"
    records.write_text("".join(json.dumps({"text": lines[i % len(lines)] + f" {i}"}) + "\n" for i in range(600)),
                       encoding="utf-8")
    suite = tmp_path / "suite.toml"
    suite.write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "lines"\nmodality = "text"\n'
                     'paths = ["lines.jsonl"]\nlanguage = "eng"\n', encoding="utf-8")
    assert main(["run", str(suite), "--out", str(tmp_path / "out"), "--in-process"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    row = summary["rows"][0]
    assert row["compression_percentiles"] == SKETCHED
    assert "compression_percentiles" in summary["units"]
    assert f"more than {LIMIT} samples they are read from a DDSketch" in (tmp_path / "out" / "report.md").read_text()
    results = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    ordered = sorted(r["compression"] for r in results)
    for p in (10, 50, 90):
        rank = p / 100 * (len(ordered) - 1)
        low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
        assert low * (1 - RELATIVE_ACCURACY) <= row[f"compression_p{p}"] <= high * (1 + RELATIVE_ACCURACY)
    assert row["compression_mean"] == math.fsum(ordered) / len(ordered)


def test_small_spreads_absorbed_past_the_limit_wait_in_the_buffer(monkeypatch):
    """A worker's share (a text job: 64 samples) absorbed into a bucketed spread joins the buffer: the
    buckets are filled once a buffer's worth has come, not twice an absorb, and the numbers equal the whole's."""
    values = udhr_compressions()[: 6 * LIMIT]
    passes = []
    fill = spread.Buckets.add
    monkeypatch.setattr(spread.Buckets, "add", lambda self, v: passes.append(len(v)) or fill(self, v))
    whole, merged = Spread(), Spread()
    for v in values:
        whole.add(v)
    passes.clear()  # the merged spread's passes only
    for k in range(0, len(values), 8):
        share = Spread()
        for v in values[k:k + 8]:
            share.add(v)
        merged.absorb(share)
    assert merged.summary() == whole.summary()
    assert len(passes) <= len(values) // spread.BUFFER + 3, passes  # not two an absorb (about 190)


def test_per_language_aggregates_keep_no_per_sample_values(monkeypatch):
    """A language row reports no spread of C, so its aggregate keeps no values: a group over 20 languages
    holds little more than one without them (it would hold 8 bytes more a sample), and reports the same."""
    labels = 20
    from compressbench.results import Group

    monkeypatch.setattr(spread, "EXACT_SAMPLES", 100_000)  # the default: every value kept

    values = udhr_compressions()[:1000]

    def group(languages: bool) -> tuple[int, Group]:
        measurements = [Measurement("d", "text", "bytes", f"{lang}/{i}", round(v * 10), round(v * 10), round(v * 10),
                                    10, 0.001, language=f"l{lang}" if languages else None)
                        for lang in range(labels) for i, v in enumerate(values)]
        Group().add(measurements[0])  # imports the registry of counts before memory is traced
        tracemalloc.start()
        try:
            g = Group()
            for m in measurements:
                g.add(m)
            return tracemalloc.get_traced_memory()[0], g
        finally:
            tracemalloc.stop()

    plain, with_languages = group(False), group(True)
    assert with_languages[0] - plain[0] < 8 * labels * len(values), (plain[0], with_languages[0])
    assert all(a.per_sample is None for a in with_languages[1].languages.values())
    assert with_languages[1].total.summary() == plain[1].total.summary()
    row = with_languages[1].languages["l3"].summary()
    assert row["samples"] == len(values) and "compression_p50" not in row
