"""A comparison as a terminal table, as Markdown for a pull request (regressions first), or as JSON.

Markdown takes the time it was made as a parameter, so golden files can freeze it.
"""

from __future__ import annotations

from typing import Any

from compressbench.reports.compare import (
    FAILED, ROW_METRICS, Change, Comparison, Incomparable, Metric, RowDiff,
)
from compressbench.reports.schema import Summary
from compressbench.reports.tables import fmt, render

_KEY_COLUMNS = [("dataset", "dataset"), ("modality", "modality"), ("tokenizer", "tokenizer")]


def pct(value: float | None) -> str:
    """A signed percentage, '-' when undefined.

    >>> pct(-5.126), pct(0.0), pct(None)
    ('-5.13%', '+0.00%', '-')
    """
    return "-" if value is None else f"{value:+.2f}%"


def _metric_columns(metrics: tuple[Metric, ...]) -> list[tuple[str, str]]:
    return [(m.key, f"{m.header}: baseline → new" + ("" if m is FAILED else " (Δ%)")) for m in metrics]


def change_cell(c: Change) -> str:
    """'3.90 → 3.70 (-5.13%)': both values and the relative change, in one cell."""
    if c.metric is FAILED:
        return f"{fmt(c.base)} → {fmt(c.new)}"
    return f"{fmt(c.base)} → {fmt(c.new)} ({pct(c.pct)})"


def _cells(row: RowDiff, mark: str) -> dict[str, Any]:
    out: dict[str, Any] = {"status": mark if row.regressions else "ok", "dataset": row.key.dataset,
                           "modality": row.key.modality, "tokenizer": row.key.tokenizer,
                           "language": row.key.language}
    out.update({key: change_cell(c) for key, c in row.changes.items()})
    return out


def _table(rows: list[RowDiff], metrics: tuple[Metric, ...], *, language: bool, markdown: bool, mark: str) -> str:
    columns = [("status", "status")] + _KEY_COLUMNS + ([("language", "language")] if language else [])
    return render([_cells(r, mark) for r in rows], columns + _metric_columns(metrics), markdown=markdown,
                  left={"status"})


def _regression_cells(cmp: Comparison, mark: str) -> list[dict[str, Any]]:
    out = []
    for r in cmp.regressions:
        c = r.change
        gate = "may not increase" if r.limit is None else f"≤ {r.limit:g}% worse"
        out.append({"status": mark, "dataset": r.key.dataset, "modality": r.key.modality,
                    "tokenizer": r.key.tokenizer, "language": r.key.language or "(all)",
                    "metric": c.metric.header, "baseline": c.base, "new": c.new, "change": pct(c.pct),
                    "worse": "-" if c.worse_pct is None else f"{c.worse_pct:.2f}%", "gate": gate})
    return out


_REGRESSION_COLUMNS = [("status", ""), *_KEY_COLUMNS, ("language", "language"), ("metric", "metric (unit)"),
                       ("baseline", "baseline"), ("new", "new"), ("change", "change (%)"),
                       ("worse", "worse by (%)"), ("gate", "gate")]
_REGRESSION_LEFT = {"status", "metric", "gate"}


def headline(cmp: Comparison) -> str:
    """One line: how many regressions, against which gates."""
    n = len(cmp.regressions)
    verdict = f"{n} regression{'s' if n != 1 else ''} beyond the gates" if n else "no regressions"
    return f"{verdict} ({len(cmp.rows)} dataset x tokenizer rows, {len(cmp.language_rows)} language rows compared)"


def render_terminal(cmp: Comparison) -> str:
    """The comparison for a terminal: regressions, the tables, notes."""
    out = [f"compressbench compare: {cmp.new_label} against baseline {cmp.baseline_label}",
           "gates: " + "; ".join(cmp.gates.describe()), ""]
    if cmp.regressions:
        out += [f"REGRESSIONS ({len(cmp.regressions)}):",
                render(_regression_cells(cmp, "REGRESSION"), _REGRESSION_COLUMNS, left=_REGRESSION_LEFT), ""]
    out += ["Per dataset x tokenizer:", _table(cmp.rows, cmp.row_metrics,
                                               language=False, markdown=False, mark="REGRESSION"), ""]
    if cmp.language_rows:
        out += ["Per language:", _table(cmp.language_rows, cmp.language_metrics,
                                        language=True, markdown=False, mark="REGRESSION"), ""]
    out += [f"note: {n}" for n in cmp.notes]
    out += ["", "Provenance:", _provenance_table(cmp, markdown=False), "", headline(cmp)]
    return "\n".join(out)


def _provenance_table(cmp: Comparison, *, markdown: bool = True) -> str:
    b, n = cmp.baseline, cmp.new
    q = "`" if markdown else ""
    lines: list[dict[str, Any]] = [
        {"what": "suite", "baseline": b["suite"], "new": n["suite"]},
        {"what": "run (UTC)", "baseline": _when(b), "new": _when(n)},
        {"what": "device", "baseline": b["provenance"].get("device"), "new": n["provenance"].get("device")},
        {"what": "machine", "baseline": b["provenance"].get("machine", {}).get("platform"),
         "new": n["provenance"].get("machine", {}).get("platform")},
    ]
    bv, nv = b["provenance"].get("versions", {}), n["provenance"].get("versions", {})
    lines += [{"what": f"{k} version", "baseline": bv.get(k), "new": nv.get(k)} for k in dict.fromkeys([*bv, *nv])]
    for name in dict.fromkeys([*b["datasets"], *n["datasets"]]):
        lines.append({"what": f"dataset {q}{name}{q} content sha256",
                      "baseline": _sha(b["datasets"].get(name), markdown=markdown),
                      "new": _sha(n["datasets"].get(name), markdown=markdown)})
    for name in dict.fromkeys([*b["tokenizers"], *n["tokenizers"]]):
        lines.append({"what": f"tokenizer {q}{name}{q} sha256",
                      "baseline": _sha(b["tokenizers"].get(name), markdown=markdown),
                      "new": _sha(n["tokenizers"].get(name), markdown=markdown)})
    return render(lines, [("what", ""), ("baseline", "baseline"), ("new", "new")], markdown=markdown,
                  left={"what", "baseline", "new"})


def _when(s: Summary) -> str:
    p = s["provenance"]
    return f"{p.get('started_utc')} → {p.get('finished_utc')}"


def _sha(entry: dict[str, Any] | None, *, markdown: bool = True) -> str:
    if entry is None:
        return "(absent)"
    digest = entry.get("content_sha256") or entry.get("sha256") or ""
    if not digest:
        return "(none: --hash none)"
    return f"`{digest[:16]}…`" if markdown else f"{digest[:16]}…"


def render_markdown(cmp: Comparison, *, now: str) -> str:
    """Markdown for a pull-request comment or GITHUB_STEP_SUMMARY; regressions first."""
    n = len(cmp.regressions)
    icon = "❌" if n else "✅"
    out = [f"## {icon} compressbench compare: {headline(cmp)}", "",
           f"New run `{cmp.new_label}` against baseline `{cmp.baseline_label}`, compared {now}. "
           f"Gates: {'; '.join(cmp.gates.describe())}. C = T/N in bytes/token: higher is better; "
           "N in tokens: lower is better; throughput in raw MB/s: higher is better.", ""]
    if n:
        out += [f"### ❌ Regressions ({n})", "",
                render(_regression_cells(cmp, "❌"), _REGRESSION_COLUMNS, markdown=True, left=_REGRESSION_LEFT), ""]
    core = tuple(m for m in cmp.row_metrics if m in ROW_METRICS)
    extra = tuple(m for m in cmp.row_metrics if m not in ROW_METRICS)
    out += ["### Per dataset × tokenizer", "",
            _table(cmp.rows, core, language=False, markdown=True, mark="❌"), ""]
    if extra:  # the information ledger and input fidelity: their own table, so the headline one stays readable
        worse = sum(any(r.change.metric in extra for r in row.regressions) for row in cmp.rows)
        out += [f"<details{' open' if worse else ''}><summary>Information and input fidelity ({len(extra)} "
                f"metrics, {worse} rows with regressions)</summary>", "",
                _table(cmp.rows, extra, language=False, markdown=True, mark="❌"), "", "</details>", ""]
    if cmp.language_rows:
        lang_regressions = sum(bool(r.regressions) for r in cmp.language_rows)
        out += [f"<details{' open' if lang_regressions else ''}><summary>Per language ({len(cmp.language_rows)} "
                f"rows, {lang_regressions} with regressions)</summary>", "",
                _table(cmp.language_rows, cmp.language_metrics, language=True, markdown=True, mark="❌"),
                "", "</details>", ""]
    if cmp.notes:
        out += ["### Notes", ""] + [f"- {note}" for note in cmp.notes] + [""]
    out += ["<details><summary>Provenance</summary>", "", _provenance_table(cmp), "", "</details>", ""]
    return "\n".join(out)


def render_incomparable_markdown(exc: Incomparable, *, now: str) -> str:
    """What a pull request shows when the runs cannot be compared at all."""
    out = [f"## ⚠️ compressbench compare: cannot compare `{exc.new_label}` with baseline `{exc.baseline_label}`",
           "", f"Checked {now}. Exit code 2. Why:", ""]
    return "\n".join(out + [f"- {r}" for r in exc.reasons] + [""])
