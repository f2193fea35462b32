"""``run --sample-by unit``: whole reading units drawn, the rest never opened, the interval over units' totals.

The corpus is 320 of the heterogeneous fixture records (every UDHR language line by line, prose
paragraphs, 8 KB code chunks), shuffled into a Parquet file of 40 row groups of 8 rows, beside the
same records as four JSONL files (streams, whose records are not counted before reading).
"""

from __future__ import annotations

import json
import math
import random

import pytest

from compressbench.core.errors import ConfigError
from compressbench.data.sampling import SampleSpec, key, merged_sampling
from compressbench.data.suite import load_suite
from compressbench.reports.summary import build_summary
from compressbench.runner import run_suite
from tests.conftest import cli
from tests.corpora.build import write_jsonl, write_parquet
from tests.test_sampling import heterogeneous_records

ROWS, GROUP, SEED, SHARE = 320, 8, 3, 0.3
TIMING = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("units")
    records = heterogeneous_records()
    random.Random(0).shuffle(records)
    records = records[:ROWS]
    write_parquet(tmp / "corpus.parquet", {"text": records}, row_group_size=GROUP)
    for k in range(4):
        write_jsonl(tmp / f"lines-{k}.jsonl", [{"text": r} for r in records[k::4]])
    head = 'tokenizers = ["tiktoken:cl100k_base"]\n[[datasets]]\nname = "table"\nmodality = "text"\npaths = ["corpus.parquet"]\n'
    suite, table = tmp / "suite.toml", tmp / "table.toml"
    table.write_text(head)
    suite.write_text(head + '[[datasets]]\nname = "lines"\nmodality = "text"\npaths = ["lines-*.jsonl"]\n')
    return suite, table


def _groups(path):
    """(first row, rows) of each row group, from pyarrow's own reading of the footer."""
    import pyarrow.parquet as pq

    meta, first, out = pq.ParquetFile(path).metadata, 0, []
    for g in range(meta.num_row_groups):
        out.append((first, meta.row_group(g).num_rows))
        first += meta.row_group(g).num_rows
    return out


@pytest.fixture(scope="module")
def share_run(corpus):
    """The table drawn by unit with --sample 30%, every row group pyarrow reads recorded."""
    import pyarrow.parquet as pq

    _, table = corpus
    read, rows = [], []
    original = pq.ParquetFile.read_row_group

    def recording(self, i, *args, **kwargs):
        read.append(i)
        return original(self, i, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pq.ParquetFile, "read_row_group", recording)
        result = run_suite(load_suite(table), emit=rows.append,
                           sampling=SampleSpec(share=SHARE, seed=SEED, sample_by="unit"))
    return build_summary(result), rows, read, _groups(table.parent / "corpus.parquet")


def test_a_unit_sample_reads_the_drawn_row_groups_whole_and_no_other(share_run):
    summary, rows, read, groups = share_run
    drawn = [g for g in range(len(groups)) if key(SEED, f"corpus.parquet@{g}") < SHARE]
    assert 0 < len(drawn) < len(groups)
    assert sorted(read) == drawn  # each drawn row group read once; the others never
    expected = {f"corpus.parquet#{groups[g][0] + i}": f"corpus.parquet@{g}" for g in drawn for i in range(groups[g][1])}
    assert {r["sample"]: r["unit"] for r in rows} == expected and len(rows) == len(expected)
    info = summary["datasets"]["table"]
    assert (info["sampled_units"], info["population_units"], info["population_samples"]) == (len(drawn), 40, ROWS)
    assert summary["provenance"]["sampling"] == {"sample": "30%", "seed": SEED, "precision": None, "sample_by": "unit"}
    assert {"sampled_units", "population_units"} <= set(summary["units"]) and summary["rows"][0]["sampled_units"]


def _fieller(totals: list[tuple[int, int]], population: int) -> tuple[float, float]:
    """The 95% Fieller interval of ΣT/ΣN over units' totals (T_u, N_u), written out here: the R with
    (ȳ - R x̄)² <= t² (1 - n/U)/n (s_yy - 2 R s_xy + R² s_xx); t at n - 1 degrees of freedom lowered for
    the kurtosis of d_u = T_u - R̂ N_u (Satterthwaite)."""
    from scipy.stats import t as student

    n = len(totals)
    y, x = [float(a) for a, _ in totals], [float(b) for _, b in totals]
    ybar, xbar = sum(y) / n, sum(x) / n
    syy = sum((a - ybar) ** 2 for a in y) / (n - 1)
    sxx = sum((b - xbar) ** 2 for b in x) / (n - 1)
    sxy = sum((a - ybar) * (b - xbar) for a, b in zip(y, x)) / (n - 1)
    r = sum(y) / sum(x)
    d = [a - r * b for a, b in zip(y, x)]
    kurtosis = n * sum(v ** 4 for v in d) / sum(v ** 2 for v in d) ** 2 - 3
    df = max(1.0, 2 / (2 / (n - 1) + max(kurtosis, 0.0) / n))
    k = student.ppf(0.975, df) ** 2 * (1 - n / population) / n
    a, b, c = xbar ** 2 - k * sxx, -2 * (xbar * ybar - k * sxy), ybar ** 2 - k * syy
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def test_the_interval_is_fieller_over_the_units_totals(share_run):
    summary, rows, _, groups = share_run
    totals: dict[str, list[int]] = {}
    for r in rows:
        t = totals.setdefault(r["unit"], [0, 0])
        t[0] += r["raw_bytes"]
        t[1] += r["tokens"]
    row = summary["rows"][0]
    low, high = _fieller([tuple(v) for v in totals.values()], len(groups))
    assert row["compression_ci_low"] == pytest.approx(low, rel=1e-9)
    assert row["compression_ci_high"] == pytest.approx(high, rel=1e-9)
    assert row["compression"] == sum(v[0] for v in totals.values()) / sum(v[1] for v in totals.values())
    assert row["population_raw_bytes_estimate"] == pytest.approx(len(groups) * row["raw_bytes"] / len(totals))
    assert row["sampled_samples"] == len(rows) and row["population_samples"] == ROWS


def test_sample_n_draws_the_fewest_units_holding_n_records(corpus):
    _, table = corpus
    rows: list[dict] = []
    run_suite(load_suite(table), emit=rows.append, sampling=SampleSpec(count=50, seed=SEED, sample_by="unit"))
    groups = _groups(table.parent / "corpus.parquet")
    by_key = sorted(range(len(groups)), key=lambda g: key(SEED, f"corpus.parquet@{g}"))
    held, drawn = 0, set()
    for g in by_key:
        if held >= 50:
            break
        held += groups[g][1]
        drawn.add(f"corpus.parquet@{g}")
    assert {r["unit"] for r in rows} == drawn and len(rows) == held


def test_a_draw_of_no_unit_still_knows_the_population(corpus):
    _, table = corpus
    result = run_suite(load_suite(table), sampling=SampleSpec(share=1e-9, seed=SEED, sample_by="unit"))
    info = result.datasets["table"]
    assert (info["sampled_units"], info["population_units"], info["population_samples"]) == (0, 40, ROWS)


def test_precision_by_unit_draws_rounds_of_new_units_and_resumes_to_the_same_sample(corpus):
    _, table = corpus
    loaded, spec = load_suite(table), SampleSpec(share=0.1, precision=4.0, seed=SEED, sample_by="unit")
    rows: list[dict] = []
    result = run_suite(loaded, emit=rows.append, sampling=spec)
    info = result.datasets["table"]
    assert info["sample_rounds"][0] == "10%" and len(info["sample_rounds"]) >= 2
    assert len({r["sample"] for r in rows}) == len(rows)  # no record read twice over the rounds
    resumed_rows: list[dict] = []
    resumed = run_suite(loaded, emit=resumed_rows.append, sampling=spec, prior_rows=rows[: len(rows) // 2])
    assert resumed.datasets == result.datasets
    ids = [(r["sample"], r["unit"], r["tokens"]) for r in rows]
    assert ids[: len(rows) // 2] + [(r["sample"], r["unit"], r["tokens"]) for r in resumed_rows] == ids


def _rows(summary):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in summary["rows"]]


def test_shards_by_unit_merge_into_the_unsharded_sample_and_a_changed_sample_by_is_refused(corpus, tmp_path):
    suite, _ = corpus
    args = ("--sample", "40%", "--seed", str(SEED), "--sample-by", "unit")
    whole = tmp_path / "whole"
    proc = cli("run", str(suite), *args, "--out", str(whole))
    assert proc.returncode == 0, proc.stderr[-2000:]
    shards = [tmp_path / f"s{k}" for k in (1, 2)]
    for k, out in enumerate(shards, 1):
        proc = cli("run", str(suite), *args, "--shard", f"{k}/2", "--out", str(out))
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert all((s / "results.jsonl").read_text() for s in shards)  # both shards drew units
    merged = tmp_path / "merged"
    assert cli("merge", *map(str, shards), "--out", str(merged)).returncode == 0
    a, b = (json.loads((d / "summary.json").read_text()) for d in (whole, merged))
    assert _rows(a) == _rows(b) and a["datasets"] == b["datasets"]
    lines = a["datasets"]["lines"]
    assert lines["population_units"] == 4 and lines["population_samples"] is None  # streams left unread
    proc = cli("run", str(suite), "--sample", "40%", "--seed", str(SEED), "--out", str(whole), "--resume")
    assert proc.returncode == 2 and "sampling changed" in proc.stderr
    record = {**a["provenance"]["sampling"], "sample_by": "record"}
    with pytest.raises(ConfigError, match="--sample-by"):
        merged_sampling([a["provenance"], {"sampling": record}])


def test_a_count_by_unit_over_streams_is_a_one_line_error(corpus, tmp_path):
    suite, _ = corpus
    proc = cli("run", str(suite), "--sample", "20", "--sample-by", "unit", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr[-2000:]
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "lines-0.jsonl" in message and "--sample P%" in message and "--precision" in message
    proc = cli("run", str(suite), "--sample-by", "unit", "--out", str(tmp_path / "o2"))
    assert proc.returncode == 2 and "--sample-by" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_an_unreadable_parquet_is_one_listed_failed_record_and_does_not_stop_a_count(corpus, tmp_path):
    """A Parquet file whose footer cannot be read is one record (its failure), counted without reading it:
    --sample N --sample-by unit still runs, and the population stays known."""
    _, table = corpus
    good = table.parent / "corpus.parquet"
    (tmp_path / "broken.parquet").write_bytes(good.read_bytes()[:3000])
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["tiktoken:cl100k_base"]\n[[datasets]]\nname = "table"\nmodality = "text"\n'
                     f'paths = ["{good}", "broken.parquet"]\n')
    rows: list[dict] = []
    result = run_suite(load_suite(suite), emit=rows.append,
                       sampling=SampleSpec(count=ROWS + 1, seed=SEED, sample_by="unit"))
    info = result.datasets["table"]
    assert (info["population_samples"], info["has_streams"], info["population_units"]) == (ROWS + 1, False, 41)
    failed = [r for r in rows if r["error"]]
    assert len(rows) == ROWS + 1 and [r["sample"] for r in failed] == ["broken.parquet"]
    assert "not a readable Parquet file" in failed[0]["error"] and failed[0]["unit"] == "broken.parquet"


def test_a_sample_that_draws_nothing_warns_and_the_report_says_how_few_units(corpus, tmp_path):
    _, table = corpus
    proc = cli("run", str(table), "--sample", "0.0001%", "--sample-by", "unit", "--out", str(tmp_path / "none"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.strip() == (f"compressbench: warning: dataset 'table': the sample drew nothing from its "
                                   f"{ROWS:,} records; raise --sample")
    proc = cli("run", str(table), "--sample", "10%", "--sample-by", "unit", "--out", str(tmp_path / "some"))
    assert proc.returncode == 0 and "warning" not in proc.stderr
    info = json.loads((tmp_path / "some" / "summary.json").read_text())["datasets"]["table"]
    report = (tmp_path / "some" / "report.md").read_text()
    assert f"in {info['sampled_units']:,} of 40 whole reading units" in report
