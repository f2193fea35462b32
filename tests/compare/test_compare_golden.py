"""Golden file: the pull-request Markdown of a real comparison, with time frozen.

The runs are real (fixtures, real tokenizers); what a golden file must not depend
on is frozen: the clock (run times and the comparison's own timestamp, injected),
timings (every row tokenizes at 10 MB/s), the machine and library versions.

Regenerate after an intended change:
    COMPRESSBENCH_UPDATE_GOLDEN=1 python -m pytest tests/compare/test_compare_golden.py
and review the diff of tests/compare/golden/.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from compressbench.reports.compare import Gates, compare
from compressbench.reports.compare_report import render_markdown
from compressbench.reports.summary import read_summary

GOLDEN = Path(__file__).parent / "golden"
FROZEN_AT = "2025-01-02T03:04:05Z"


def frozen(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with clock, timings, machine and versions fixed; token counts untouched."""
    s = copy.deepcopy(summary)
    p = s["provenance"]
    p["started_utc"] = p["finished_utc"] = FROZEN_AT
    p["machine"] = {"platform": "frozen-machine"}
    p["versions"] = {k: "frozen" for k in p["versions"]}
    for row in s["rows"]:
        row["seconds"] = row["raw_bytes"] / 1e7
        row["raw_mb_per_s"] = 10.0
        row["tokens_per_s"] = row["tokens"] / row["seconds"]
    return s


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("COMPRESSBENCH_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{path} differs; rerun with COMPRESSBENCH_UPDATE_GOLDEN=1 and review the diff"


def test_markdown_of_a_retrained_tokenizer(base_run, latin_run):
    cmp = compare(frozen(read_summary(base_run)), frozen(read_summary(latin_run)), gates=Gates(),
                  allow_tokenizer_change=("hf:*",), baseline_label="runs/main", new_label="runs/pr-42")
    check_golden("compare-retrained.md", render_markdown(cmp, now=FROZEN_AT))


def test_markdown_without_regressions(base_run, base_run_again):
    cmp = compare(frozen(read_summary(base_run)), frozen(read_summary(base_run_again)),
                  baseline_label="runs/main", new_label="runs/pr-43")
    check_golden("compare-clean.md", render_markdown(cmp, now=FROZEN_AT))
