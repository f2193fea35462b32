"""`report` and `compare` read results.jsonl as a stream: a report's figures show a bounded random subset of a
big dataset's samples, a run keeps a bounded list of error messages, and compare reads sample ids only for a
dataset whose content differs, holding 16 bytes a sample."""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compressbench.core.errors import MESSAGES_KEPT
from compressbench.reports.export import export
from compressbench.reports.results import differing_samples, read_results, row_sample_ids
from compressbench.reports.summary import read_summary
from compressbench.results import read_rows
from tests.conftest import UDHR, cli

RECORDS = 300


@pytest.fixture(scope="module")
def lines_run(tmp_path_factory) -> Path:
    """A real run of two tokenizers over a JSONL of 300 records (UDHR lines) beside 5 loose files."""
    root = tmp_path_factory.mktemp("lines")
    lines = [line for path in sorted(UDHR.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    with (root / "lines.jsonl").open("w", encoding="utf-8") as fh:
        for text in lines[:RECORDS]:
            fh.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    (root / "suite.toml").write_text(
        'tokenizers = ["bytes", "tiktoken:cl100k_base"]\n'
        '[[datasets]]\nname = "lines"\nmodality = "text"\npaths = ["lines.jsonl"]\n'
        f'[[datasets]]\nname = "files"\nmodality = "text"\npaths = ["{UDHR}/eng.txt", "{UDHR}/fra.txt"]\n')
    proc = cli("run", str(root / "suite.toml"), "--out", str(root / "out"))
    assert proc.returncode == 0, proc.stderr
    return root / "out"


def _shown(samples) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in samples.rows:
        out.setdefault(row["dataset"], set()).add(row["sample"])
    return out


def test_a_report_shows_a_bounded_random_subset_the_same_under_every_tokenizer(lines_run, tmp_path):
    every = read_rows(lines_run / "results.jsonl")
    assert len({r["sample"] for r in every if r["dataset"] == "lines"}) == RECORDS
    few, more = read_results(lines_run, shown=20), read_results(lines_run, shown=40)
    shown = _shown(few)
    assert len(shown["lines"]) == 20 and len(shown["files"]) == 2  # a small dataset is shown whole
    assert few.subsampled == {"lines"}
    assert shown["lines"] < _shown(more)["lines"]  # the 20 with the smallest keys are among the 40
    for sample in shown["lines"]:  # every tokenizer's row of each sample shown
        assert sorted(r["tokenizer"] for r in few.rows if r["sample"] == sample) == ["bytes", "tiktoken:cl100k_base"]
    assert few.rows == [r for r in every if r in few.rows]  # in the order of results.jsonl
    # the rows in another order give the same samples: the choice depends on the ids, not on when they came
    shuffled = tmp_path / "results.jsonl"
    lines = (lines_run / "results.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(0).shuffle(lines)
    shuffled.write_text("".join(lines), encoding="utf-8")
    assert _shown(read_results(tmp_path, shown=20)) == shown
    whole = read_results(lines_run)
    assert whole.subsampled == set() and whole.rows == every  # under the default, all 300 are drawn
    page = export(read_summary(lines_run), few, "html", None)
    assert "Samples shown: lines: 20 of 300." in page
    assert "Samples shown" not in export(read_summary(lines_run), whole, "html", None)


def test_reading_a_big_run_for_its_report_holds_the_shown_rows_only(lines_run, tmp_path):
    """15,000 rows (the real run's rows under new sample ids): the report's read holds a bounded subset."""
    rows = read_rows(lines_run / "results.jsonl")
    with (tmp_path / "results.jsonl").open("w", encoding="utf-8") as fh:
        for copy in range(25):
            for row in rows:
                fh.write(json.dumps({**row, "sample": f"{row['sample']}/{copy}"}) + "\n")
    tracemalloc.start()
    try:
        samples = read_results(tmp_path, shown=100)
        streamed = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        whole = read_rows(tmp_path / "results.jsonl")
        listed = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(whole) == 25 * len(rows)
    assert {k: len(v) for k, v in _shown(samples).items()} == {"lines": 100, "files": 50}
    assert streamed < listed / 10, (streamed, listed)


def test_a_run_keeps_a_thousand_error_messages_and_says_there_were_more(tmp_path):
    bad = MESSAGES_KEPT + 20
    with (tmp_path / "c.jsonl").open("w", encoding="utf-8") as fh:
        fh.write('{"text": "one good record"}\n' + "{broken\n" * bad)
    (tmp_path / "suite.toml").write_text('tokenizers = ["bytes"]\n[[datasets]]\nname = "c"\nmodality = "text"\n'
                                         'paths = ["c.jsonl"]\n')
    proc = cli("run", str(tmp_path / "suite.toml"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert f"more than {MESSAGES_KEPT:,} sample(s) failed" in proc.stderr
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert f"## Failed samples (more than {MESSAGES_KEPT:,})" in report
    assert "- c.jsonl#1: not a valid JSON line" in report and f"- … and over {MESSAGES_KEPT - 50:,} more" in report
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["rows"][0]["errors"] == bad  # all counted
    proc = cli("report", str(tmp_path / "out"), "--format", "html")
    assert proc.returncode == 0 and f"Failed samples (more than {MESSAGES_KEPT:,})" in proc.stdout


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcdefgh"), max_size=30), st.lists(st.sampled_from("efghijkl"), max_size=30))
def test_differing_samples_are_the_set_differences_in_run_order(base, new):
    rows = [{"dataset": "d", "sample": s} for s in base], [{"dataset": "d", "sample": s} for s in new]
    only_base, only_new = differing_samples({"d"}, row_sample_ids(rows[0]), row_sample_ids(rows[1]))["d"]
    for ours, mine, theirs in ((only_base, base, new), (only_new, new, base)):
        expected = list(dict.fromkeys(s for s in mine if s not in set(theirs)))
        assert ours.count == len(expected) and ours.first == expected[:5]


def test_the_samples_of_every_changed_dataset_come_from_two_reads_of_each_run(lines_run):
    """Both datasets of the real run changed (a sample renamed in each): each run's ids are read twice in
    all, not twice a dataset, and each dataset's differences are its own."""
    rows = read_rows(lines_run / "results.jsonl")
    renamed = {"lines": "lines.jsonl#7", "files": next(r["sample"] for r in rows if r["dataset"] == "files")}
    new = [{**r, "sample": r["sample"] + "~"} if renamed.get(r["dataset"]) == r["sample"] else r for r in rows]
    reads = []

    def counted(ids, side):
        def read(datasets):
            reads.append(side)
            return ids(datasets)
        return read

    differing = differing_samples({"lines", "files"}, counted(row_sample_ids(rows), "base"),
                                  counted(row_sample_ids(new), "new"))
    assert sorted(reads) == ["base", "base", "new", "new"]
    for dataset, sample in renamed.items():
        only_base, only_new = differing[dataset]
        assert (only_base.count, only_base.first, only_new.count, only_new.first) == (1, [sample], 1, [sample + "~"])
