"""measure's rows spooled to disk print exactly as the rows held in memory (table and JSON)."""

from __future__ import annotations

import io
import json

from compressbench.cli.commands.measure import _COLUMNS
from compressbench.reports import spool as spool_module
from compressbench.reports.spool import RowSpool, print_json, print_table
from compressbench.reports.tables import render


def _rows() -> list[dict]:
    rows = []
    for i in range(25):  # widths that grow and shrink from row to row; a column only some rows have
        row = {"sample": "x" * (i % 7) + f"文{i}.txt", "tokenizer": "tiktoken:cl100k_base" if i % 3 else "bytes",
               "raw_bytes": 10 ** (i % 9), "tokens": None if i % 5 == 0 else i * 37,
               "compression": None if i % 5 == 0 else 10 ** (i % 9) / (i * 37),
               "error": f"bad\nline {i}" if i % 5 == 0 else None, "meta": {"file_sha256": "ab" * 4, "n": [i, 1.5]}}
        if i % 4 == 0:
            row["language"] = "eng"
        rows.append(row)
    return rows


def _spooled(rows: list[dict]) -> RowSpool:
    spool = RowSpool()
    for row in rows:
        spool.add(row)
    return spool


def test_table_is_render_of_all_rows_in_chunks(monkeypatch):
    monkeypatch.setattr(spool_module, "CHUNK_ROWS", 4)  # several chunks, the widest cells in different ones
    rows = _rows()
    for columns in (_COLUMNS, _COLUMNS + [("language", "language")]):
        out = io.StringIO()
        print_table(_spooled(rows), columns, out)
        assert out.getvalue() == render(rows, columns) + "\n"
    out = io.StringIO()
    print_table(RowSpool(), _COLUMNS, out)
    assert out.getvalue() == render([], _COLUMNS) + "\n"


def test_json_is_dumps_of_all_rows():
    rows = _rows()
    rest = {"summary": [{"tokens": 3, "c": 1.25}], "tokenizers": {"bytes": {}}, "units": {"tokens": "tokens"}}
    for kept in (rows, []):
        out = io.StringIO()
        print_json(_spooled(kept), rest, out)
        assert out.getvalue() == json.dumps({"results": kept, **rest}, indent=2, ensure_ascii=False) + "\n"
