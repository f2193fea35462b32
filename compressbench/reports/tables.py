"""Tables of summary rows for the terminal and for Markdown, every column with its unit.

>>> fmt(1234567)
'1,234,567'
>>> fmt(3.14159)
'3.14'
>>> fmt(None)
'-'
>>> print(printable("a\\nb.txt: empty"))
a\\nb.txt: empty
"""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

# (key, header with unit) of the summary table, in order.
SUMMARY_COLUMNS: list[tuple[str, str]] = [
    ("dataset", "dataset"),
    ("modality", "modality"),
    ("tokenizer", "tokenizer"),
    ("samples", "samples"),
    ("errors", "errors"),
    ("raw_bytes", "T (bytes)"),
    ("tokens", "N (tokens)"),
    ("compression", "C = ΣT/ΣN (bytes/token)"),
    ("compression_p10", "C p10 (B/tok)"),
    ("compression_p50", "C p50 (B/tok)"),
    ("compression_p90", "C p90 (B/tok)"),
    ("raw_mb_per_s", "raw MB/s"),
    ("tokens_per_s", "tokens/s"),
]

# C = (T / input) x (input / N): what preprocessing throws away, and what the tokenizer itself compresses.
SPLIT_COLUMNS: list[tuple[str, str]] = [
    ("tokenizer", "tokenizer"),
    ("input_bytes", "input (bytes)"),
    ("preprocessing_factor", "T / input"),
    ("tokenizer_factor", "input / N (bytes/token)"),
    ("compression", "C (bytes/token)"),
    ("prefix_tokens", "prefix tokens (not in N)"),
]

# The sampling interval beside C, in reports of sampled runs (``interval`` makes the cell).
INTERVAL_COLUMN = ("compression_ci", "C 95% CI (bytes/token)")


def interval(row: dict[str, Any]) -> str:
    """The 95% confidence interval of a row's C, as ``low – high`` (4 significant figures).

    >>> interval({"compression": 3.0, "compression_ci_low": 2.9712, "compression_ci_high": 3.03})
    '2.971 – 3.030'
    >>> interval({"compression": 3.0, "compression_ci_low": 3.0, "compression_ci_high": 3.0})
    'exact (every sample)'
    """
    low, high = row.get("compression_ci_low"), row.get("compression_ci_high")
    if low is None or high is None:
        return "-"
    if low == high:
        return "exact (every sample)"
    return f"{low:#.4g} – {high:#.4g}"


def with_interval(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> tuple[list[dict[str, Any]],
                                                                                   list[tuple[str, str]]]:
    """Rows and columns with the interval of C placed right after C."""
    at = [k for k, _ in columns].index("compression") + 1
    return [{**r, INTERVAL_COLUMN[0]: interval(r)} for r in rows], [*columns[:at], INTERVAL_COLUMN, *columns[at:]]


TEXT_COLUMNS: list[tuple[str, str]] = [
    ("tokenizer", "tokenizer"),
    ("chars_per_token", "chars/token"),
    ("fertility", "tokens/word"),
    ("unk_rate", "unk rate"),
    ("byte_token_rate", "byte-token rate"),
]


# Control characters and line breaks (a file may be named "a\nb.txt") written as escapes, so that
# one name or message stays on one line of a table, a list or the terminal.
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(32), 0x7F, 0x85)} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def printable(text: str) -> str:
    """``text`` on one line: control characters and line breaks escaped."""
    return text.translate(_ESCAPES)


def fmt(value: Any) -> str:
    """Integers with thousands separators, floats to 3 significant figures (at least 2 decimals), None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 0.01:
            return f"{value:.2f}" if abs(value) < 100 else f"{value:.1f}"
        return f"{value:.2e}"
    return printable(str(value))


# Columns of names, aligned left; numbers align right.
TEXT_KEYS = frozenset({"dataset", "modality", "tokenizer", "language"})


def render(rows: list[dict[str, Any]], columns: list[tuple[str, str]], *, markdown: bool = False,
           tablefmt: str | None = None, left: frozenset[str] | set[str] = frozenset()) -> str:
    """``rows`` as a table of ``columns``; columns absent from every row are left out.

    ``tablefmt`` overrides the tabulate format (e.g. ``"html"``, which escapes cells);
    ``left`` names more columns of text to align left.
    """
    present = [(k, h) for k, h in columns if any(k in r for r in rows)]
    body = [[fmt(r.get(k)) for k, _ in present] for r in rows]
    numeric = ["left" if k in TEXT_KEYS or k in left else "right" for k, _ in present]
    return tabulate(body, headers=[h for _, h in present], tablefmt=tablefmt or ("github" if markdown else "simple"),
                    colalign=numeric, disable_numparse=True)
