"""`compressbench report` on a real run: every format, round trips, and the HTML's self-containment."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from compressbench.cli import main
from compressbench.reports.export import read_csv, read_parquet, tidy_rows, to_csv, to_json
from compressbench.reports.html import render_html
from compressbench.reports.markdown import render_report
from compressbench.reports.results import read_results
from compressbench.reports.summary import read_summary


def report(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    rc = main(["report", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_markdown_is_the_run_report(capsys, base_run):
    rc, out, _ = report(capsys, base_run, "--format", "md")
    assert rc == 0 and out == render_report(read_summary(base_run), [])
    assert "## Provenance" in out and "identity (sha256)" in out


def test_csv_round_trips(capsys, base_run, tmp_path):
    summary = read_summary(base_run)
    rows = tidy_rows(summary)
    assert len(rows) == 6 + 15  # dataset x tokenizer rows, then 5 languages x 3 tokenizers
    assert read_csv(to_csv(rows)) == rows
    rc, _, _ = report(capsys, base_run, "--format", "csv", "--out", tmp_path / "r.csv")
    assert rc == 0 and read_csv(tmp_path / "r.csv") == rows
    import pandas as pd

    frame = pd.read_csv(tmp_path / "r.csv", keep_default_na=False, na_values=[""])
    hin = frame[(frame.tokenizer == "hf:tok.json") & (frame.language == "hin")].iloc[0]
    row = next(r for r in summary["rows"] if r["tokenizer"] == "hf:tok.json" and r["dataset"] == "udhr")
    assert hin.token_premium == row["languages"]["hin"]["token_premium"]
    assert hin.tokens == row["languages"]["hin"]["tokens"]


def test_json_round_trips_with_provenance(capsys, base_run, tmp_path):
    summary = read_summary(base_run)
    assert json.loads(to_json(summary)) == summary
    rc, out, _ = report(capsys, base_run / "summary.json", "--format", "json")
    assert rc == 0 and json.loads(out) == summary
    (tmp_path / "summary.json").write_text(out, encoding="utf-8")
    assert read_summary(tmp_path) == summary
    assert set(summary["provenance"]) >= {"versions", "machine", "device", "started_utc", "finished_utc"}


def test_parquet_holds_the_table_and_the_provenance(capsys, base_run, tmp_path):
    import pandas as pd

    rc, _, err = report(capsys, base_run, "--format", "parquet")
    assert rc == 2 and "pass --out FILE.parquet" in err
    rc, _, _ = report(capsys, base_run, "--format", "parquet", "--out", tmp_path / "r.parquet")
    assert rc == 0
    summary = read_summary(base_run)
    rows, meta = read_parquet(tmp_path / "r.parquet")
    assert rows == tidy_rows(summary)
    assert meta == {k: v for k, v in summary.items() if k != "rows"}
    frame = pd.read_parquet(tmp_path / "r.parquet")
    assert list(frame.columns[:4]) == ["dataset", "modality", "tokenizer", "language"]
    assert frame.tokens.sum() == sum(r["tokens"] for r in tidy_rows(summary))


def test_html_is_self_contained_and_deterministic(base_run):
    summary, samples = read_summary(base_run), read_results(base_run)
    page = render_html(summary, samples.rows, [])
    assert page == render_html(summary, samples.rows, [])  # same input, same bytes (figures included)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    # Every reference is in-page: fragments, or an inline data: image inside an SVG.
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs and all(r.startswith(("#", "data:image/png;base64,")) for r in refs), set(refs) - {""}
    assert re.findall(r"url\((?!#)", page) == []
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for section in ("modality-text", "provenance", "units"):
        assert f'id="{section}"' in page
    for dataset in ("udhr", "code"):  # text runs carry the information ledger: one efficiency panel each
        assert f'id="text-{dataset}-curves"' in page
    for digest in (summary["datasets"]["udhr"]["content_sha256"], summary["tokenizers"]["hf:tok.json"]["sha256"]):
        assert digest in page  # provenance in full


def test_html_without_per_sample_results_says_what_is_missing(capsys, base_run, tmp_path):
    shutil.copy(base_run / "summary.json", tmp_path / "summary.json")
    rc, out, _ = report(capsys, tmp_path / "summary.json", "--format", "html")
    assert rc == 0 and "No per-sample results (results.jsonl)" in out
    assert 'id="text-scaling"' not in out and 'id="text-split"' in out


def test_html_lists_failed_samples(base_run):
    samples = read_results(base_run)
    page = render_html(read_summary(base_run), samples.rows, ["text/udhr/xx.txt: not valid utf-8 text"])
    assert "Failed samples (1)" in page and "text/udhr/xx.txt: not valid utf-8 text" in page


def test_unknown_run_and_missing_output_folder_exit_2(capsys, base_run, tmp_path):
    rc, _, err = report(capsys, tmp_path / "nothing-here", "--format", "md")
    assert rc == 2 and "no such summary" in err
    rc, _, err = report(capsys, base_run, "--format", "html", "--out", tmp_path / "no" / "dir" / "r.html")
    assert rc == 2 and "does not exist" in err
