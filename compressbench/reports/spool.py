"""Result rows kept on disk while a run streams them, printed afterwards exactly as if held in memory.

``compressbench measure`` prints every row after the summary is known. Held in a list, the rows of a
million samples would take gigabytes; spooled to a temporary file (one JSON line each) they take a
batch. :func:`print_json` writes the same text as ``json.dumps({"results": rows, **rest}, indent=2,
ensure_ascii=False)``, and :func:`print_table` the same as ``render(rows, columns)``, reading the rows
back a chunk at a time.

>>> import io
>>> spool = RowSpool()
>>> spool.add({"sample": "a.txt", "tokens": 1234})
>>> spool.add({"sample": "b.txt", "tokens": 5})
>>> out = io.StringIO()
>>> print_table(spool, [("sample", "sample"), ("tokens", "N")], out)
>>> print(out.getvalue(), end="")
  sample      N
--------  -----
   a.txt  1,234
   b.txt      5
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from collections.abc import Iterator
from itertools import islice
from typing import IO, Any

from compressbench.core.jsonlines import json_text
from compressbench.reports.tables import fmt, render

CHUNK_ROWS = 1000  # rows read back and rendered at a time


class RowSpool:
    """Rows appended to an anonymous temporary file (deleted when closed or collected), read back in order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        self._file.write(json_text(row) + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield json.loads(line)
        self._file.seek(0, 2)  # further rows append

    def close(self) -> None:
        self._file.close()


def print_json(spool: RowSpool, rest: dict[str, Any], out: IO[str]) -> None:
    """``print(json.dumps({"results": [rows...], **rest}, indent=2, ensure_ascii=False), file=out)``, a row at a time.

    >>> import io
    >>> spool, out = RowSpool(), io.StringIO()
    >>> for row in ({"a": [1, 2]}, {"b": None}):
    ...     spool.add(row)
    >>> print_json(spool, {"n": {"x": 2}}, out)
    >>> out.getvalue() == json.dumps({"results": [{"a": [1, 2]}, {"b": None}], "n": {"x": 2}}, indent=2) + "\\n"
    True
    """
    out.write('{\n  "results": [')
    for i, row in enumerate(spool):
        out.write(",\n" if i else "\n")
        out.write(textwrap.indent(json_text(row, indent=2), "    "))
    out.write("\n  ]" if spool.count else "]")
    tail = json_text(rest, indent=2)
    out.write((",\n" + tail[2:] if rest else "\n}") + "\n")


def print_table(spool: RowSpool, columns: list[tuple[str, str]], out: IO[str]) -> None:
    """``print(render(rows, columns), file=out)``, rendering a chunk of rows at a time.

    Every chunk is rendered with one more row holding each column's widest cell, so that its columns
    have the widths of the whole table; that row, and the header of every chunk after the first, are dropped.
    """
    try:
        from tabulate import _visible_width as width  # the width tabulate itself gives a cell
    except ImportError:  # pragma: no cover - older or newer tabulate
        width = len
    present: set[str] = set()
    widest = {key: "" for key, _ in columns}
    for row in spool:
        present.update(k for k, _ in columns if k in row)
        for key, _ in columns:
            cell = fmt(row.get(key))  # one line: fmt escapes line breaks
            if width(cell) > width(widest[key]):
                widest[key] = cell
    if not spool.count:
        print(render([], columns), file=out)
        return
    shown = [(k, h) for k, h in columns if k in present]
    phantom = {k: widest[k] for k, _ in shown}  # fmt() leaves a formatted cell as it is
    rows = iter(spool)
    first = True
    while chunk := list(islice(rows, CHUNK_ROWS)):
        lines = render(chunk + [phantom], shown).split("\n")[:-1]
        out.write("\n".join(lines if first else lines[2:]) + "\n")
        first = False

