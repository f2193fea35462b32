"""Reading a run's own JSON-lines files (results.jsonl, token_ids.jsonl) back, one line at a time.

Both files are appended to as a run goes, so a killed run can leave a half-written last line: it is
never read, and :func:`cut_partial_line` cuts it before a resumed run appends more. Lines are
streamed, never the whole file read: a run's files can be larger than memory.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "rows.jsonl"
>>> _ = path.write_bytes(b'{"a": 1}\\n\\n{"a": 2}\\n{"a": ')
>>> [row["a"] for row in read_lines(path, "results file", repair=True)], path.read_bytes()[-1:]
([1, 2], b'\\n')
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from compressbench.core.errors import ConfigError, not_utf8, reading


def json_text(obj: Any, **options: Any) -> str:
    """``json.dumps(obj, ensure_ascii=False)``, or with ``\\uXXXX`` escapes when that text cannot be written
    as UTF-8 (it holds a lone surrogate: a JSON record's unpaired escape, a name that is not UTF-8), so
    that every file a run writes stays UTF-8 and reads back to the same value.

    >>> json_text({"a": "é"}), json_text({"a": "\\ud800"})
    ('{"a": "é"}', '{"a": "\\\\ud800"}')
    """
    return utf8_text(json.dumps(obj, ensure_ascii=False, **options))


def utf8_text(text: str) -> str:
    """``text``, with any lone surrogate (from a name that is not UTF-8) written as a ``\\uXXXX`` escape,
    so that it can be written to a UTF-8 file or terminal (in JSON the escape reads back as the same value).

    >>> utf8_text("ok"), utf8_text("a\\udcffb")
    ('ok', 'a\\\\udcffb')
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def read_lines(path: Path, what: str, *, repair: bool = False, end: int | None = None,
               check: Callable[[Any], str | None] | None = None) -> Iterator[dict[str, Any]]:
    """The JSON objects of ``path``, one per line, streamed; blank lines and a half-written last line are
    skipped, and with ``repair`` the half line is cut from the file first (now, not when iteration
    starts: :func:`repair_lines`). ``end`` stops at that byte offset (lines appended since are not read).
    A line that is not JSON or not UTF-8, or of which ``check`` says what is wrong, is a one-line
    error naming the file, the line and ``what`` the file is (e.g. ``"results file"``)."""
    if repair:
        repair_lines(path, what)
    return _lines(path, what, check, end)


def repair_lines(path: Path, what: str) -> int:
    """Cut a killed run's half-written last line from ``path``; returns the file's size after."""
    with reading(path, what):
        cut_partial_line(path)
        return path.stat().st_size


def _lines(path: Path, what: str, check: Callable[[Any], str | None] | None = None,
           end: int | None = None) -> Iterator[dict[str, Any]]:
    offset = 0
    with reading(path, what), path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            if end is not None and offset >= end:
                return  # appended after the caller's reading began
            offset += len(raw)
            if not raw.endswith(b"\n"):
                return  # a killed run's half line
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise not_utf8(f"{path}:{number}", exc, what) from None
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not a JSON line ({exc.msg}); the file is damaged") from None
            problem = check(line) if check is not None else None
            if problem:
                raise ConfigError(f"{path}:{number}: {problem} in this {what}; the file is damaged")
            yield line


def cut_partial_line(path: Path) -> None:
    """Truncate a file after its last newline (reading its end backwards, a block at a time)."""
    with path.open("r+b") as fh:
        size = fh.seek(0, 2)
        block = 1 << 16
        end = size
        while end > 0:
            start = max(0, end - block)
            fh.seek(start)
            data = fh.read(end - start)
            at = data.rfind(b"\n")
            if at >= 0:
                if start + at + 1 != size:
                    fh.truncate(start + at + 1)
                return
            end = start
        fh.truncate(0)
