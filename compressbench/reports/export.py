"""Exporting a run: Markdown, HTML, CSV, JSON, Parquet. CSV and JSON read back to what was written.

CSV and Parquet hold one tidy table: a row per dataset x modality x tokenizer
(``language`` empty) and a row per language of it. JSON is summary.json itself,
provenance included; Parquet carries that provenance in its file metadata.

>>> s = {"rows": [{"dataset": "d", "modality": "text", "tokenizer": "bytes", "tokens": 4,
...                "languages": {"eng": {"tokens": 4, "token_premium": 1.0}}}]}
>>> [(r["language"], r["token_premium"]) for r in tidy_rows(s)]
[(None, None), ('eng', 1.0)]
>>> read_csv(to_csv(tidy_rows(s))) == tidy_rows(s)
True
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compressbench.core.backends import import_backend
from compressbench.core.errors import ConfigError
from compressbench.reports.schema import Summary
from compressbench.core.jsonlines import utf8_text

if TYPE_CHECKING:
    from compressbench.reports.results import RunSamples

FORMATS = ("md", "html", "csv", "json", "parquet")
TEXT_COLUMNS = ("dataset", "modality", "tokenizer", "language")
PARQUET_METADATA_KEY = b"compressbench.summary"


def tidy_rows(summary: Summary | dict[str, Any]) -> list[dict[str, Any]]:
    """Dataset rows and their per-language rows in one table; every row has every column (None if absent)."""
    out: list[dict[str, Any]] = []
    for row in summary["rows"]:
        base = {k: v for k, v in row.items() if k != "languages"}
        out.append({**{k: base.get(k) for k in TEXT_COLUMNS}, **base})
        for lang, values in (row.get("languages") or {}).items():
            out.append({"dataset": row["dataset"], "modality": row["modality"], "tokenizer": row["tokenizer"],
                        "language": lang, **values})
    columns = list(dict.fromkeys(k for r in out for k in r))
    return [{k: r.get(k) for k in columns} for r in out]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with a header; None as an empty cell; floats written exactly (shortest repr)."""
    buf = io.StringIO()
    columns = list(rows[0]) if rows else list(TEXT_COLUMNS)
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _cell(column: str, text: str) -> Any:
    if text == "":
        return None
    if column in TEXT_COLUMNS:
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_csv(source: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV written by :func:`to_csv` (a path, or the text itself), numbers as numbers."""
    text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
    return [{k: _cell(k, v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def to_json(summary: Summary) -> str:
    """summary.json's content, provenance included (read it back with ``read_summary``)."""
    return json.dumps(summary, indent=2, ensure_ascii=False) + "\n"


def _metadata(summary: Summary) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "rows"}


def write_parquet(summary: Summary, path: str | Path) -> None:
    """The tidy table as Parquet (pyarrow), with summary.json minus its rows in the file's metadata."""
    pa = import_backend("pyarrow", purpose="the Parquet report")
    pq = import_backend("pyarrow.parquet", purpose="the Parquet report")

    rows = tidy_rows(summary)
    columns = list(rows[0]) if rows else list(TEXT_COLUMNS)
    # A column holding both ints and floats (say a count that is sometimes fractional) becomes float.
    floats = {k for k in columns if any(isinstance(r[k], float) for r in rows)}
    rows = [{k: float(v) if k in floats and isinstance(v, int) else v for k, v in r.items()} for r in rows]
    table = pa.Table.from_pylist(rows) if rows else pa.table({k: pa.array([], pa.string()) for k in columns})
    meta = {**(table.schema.metadata or {}), PARQUET_METADATA_KEY: json.dumps(_metadata(summary)).encode()}
    pq.write_table(table.replace_schema_metadata(meta), str(path))


def read_parquet(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows and the summary metadata (provenance, datasets, tokenizers, units) of a Parquet export."""
    pq = import_backend("pyarrow.parquet", purpose="reading a Parquet report")

    table = pq.read_table(str(path))
    meta = json.loads((table.schema.metadata or {}).get(PARQUET_METADATA_KEY, b"{}"))
    return table.to_pylist(), meta


def export(summary: Summary, samples: RunSamples | None, fmt: str, out: Path | None) -> str | None:
    """Render ``summary`` as ``fmt``; write it to ``out`` or return the text (binary formats need ``out``).
    ``samples`` (what :func:`~compressbench.reports.results.read_results` read of the run's results.jsonl)
    gives the Markdown and HTML reports their failures and figures."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if fmt == "parquet":
        if out is None:
            raise ConfigError("parquet is a binary format: pass --out FILE.parquet")
        write_parquet(summary, out)
        return None
    if fmt == "md":
        from compressbench.reports.markdown import render_report

        text = render_report(summary, samples.errors if samples else [])
    elif fmt == "html":
        from compressbench.reports.html import render_html

        text = render_html(summary, samples.rows if samples else None, samples.errors if samples else [],
                           subsampled=samples.subsampled if samples else set())
    elif fmt == "csv":
        text = to_csv(tidy_rows(summary))
    else:
        text = to_json(summary)
    text = utf8_text(text)  # a summary that names a non-UTF-8 path reads back with surrogates
    if out is None:
        return text
    out.write_text(text, encoding="utf-8")
    return None
