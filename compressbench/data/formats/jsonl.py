"""``jsonl``: one JSON object per line is one sample (``.gz``, ``.zst``, ``.bz2``, ``.xz`` decompressed streaming).

Ids are ``SOURCE#INDEX`` (records counted from 0; blank lines are not records).
A malformed line, a record without the field or with a field of the wrong
type is that record's error row; a damaged or truncated file ends with one
error row for the record where reading failed, everything before it measured.

>>> list(lines(io.BytesIO(b'{"a": 1}\\n\\n{"a": 2}'), chunk=4))
[b'{"a": 1}', b'', b'{"a": 2}']
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import IO

from compressbench.core.errors import SampleError
from compressbench.data.formats import register_format
from compressbench.data.formats.base import (Format, ReadSpec, Record, Unit, failed, field_value, labels_of,
                                             open_source, record_id)


class Skipped(int):
    """A line over the size limit, by its length in bytes: skipped, never held."""


def lines(fh: IO[bytes], *, chunk: int = 1 << 16, max_bytes: int | None = None) -> Iterator[bytes | Skipped]:
    """The lines of a binary stream without their line ends, read at most ``chunk`` bytes at a time
    (any readable stream, decompressors included). It holds at most one line and one chunk, each byte
    looked at a bounded number of times however long the line; a line over ``max_bytes`` is not held
    (past the chunk it ends in) but passed over, and comes as its length (:class:`Skipped`). Where the
    stream has ``read1`` (decompressors do) each read returns what one step gave, so a damaged stream
    loses as little as possible of what came before it.

    >>> list(lines(io.BytesIO(b"ab\\r\\n" + b"x" * 10 + b"\\ncd"), chunk=3, max_bytes=5))
    [b'ab', 10, b'cd']
    """
    read = getattr(fh, "read1", fh.read)
    held: list[bytes] = []  # the pieces of the line so far (no newline in them)
    size = 0  # their length
    skipped: int | None = None  # bytes so far of a line over the limit (not held)
    while block := read(chunk):
        *complete, rest = block.split(b"\n")
        if complete:
            first = complete[0]
            if skipped is not None:
                yield Skipped(skipped + len(first))
                skipped = None
            else:
                yield _finished(b"".join((*held, first)) if held else first, max_bytes)
            held, size = [], 0
            for line in complete[1:]:  # the common case, inline: short lines are most of a corpus
                yield line.rstrip(b"\r") if max_bytes is None or len(line) <= max_bytes else Skipped(len(line))
        if skipped is not None:
            skipped += len(rest)
        elif rest:
            held.append(rest)
            size += len(rest)
            if max_bytes is not None and size > max_bytes:
                skipped, held, size = size, [], 0
    if skipped is not None:
        yield Skipped(skipped)
    elif held:
        yield _finished(b"".join(held), max_bytes)


def _finished(line: bytes, max_bytes: int | None) -> bytes | Skipped:
    """A whole line without its line end, or its length when it is over ``max_bytes``."""
    return Skipped(len(line)) if max_bytes is not None and len(line) > max_bytes else line.rstrip(b"\r")


def parse_record(line: bytes, where: str) -> dict:
    """One JSONL line as a JSON object, or the record's error."""
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        detail = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise SampleError(f"{where}: not a valid JSON line ({detail})") from None
    if not isinstance(value, dict):
        raise SampleError(f"{where}: the line is a JSON {type(value).__name__}, not an object")
    return value


@register_format
class Jsonl(Format):
    """JSON Lines: one object per line."""

    name = "jsonl"
    extensions = (".jsonl", ".ndjson")

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        index = 0
        try:
            with open_source(unit.source, decompress=True) as fh:
                for line in lines(fh, max_bytes=spec.max_bytes):
                    if not isinstance(line, Skipped) and not line.strip():
                        continue
                    rid = record_id(unit, index)
                    index += 1
                    try:
                        if isinstance(line, Skipped):
                            raise SampleError(f"{rid}: the line is {line:,} bytes, over the limit of "
                                              f"{spec.max_bytes:,} (--max-file-bytes); not read")
                        row = parse_record(line, rid)
                        yield Record(rid, unit, data=field_value(row, spec.fields[0], rid, spec.modality),
                                     name=unit.source.name, fields=labels_of(row, spec.labels, rid))
                    except SampleError as exc:
                        yield failed(unit, rid, exc)
        except Exception as exc:  # damaged or truncated compression, a lost connection: the rest is unread
            yield failed(unit, record_id(unit, index), exc, f"cannot read record {index} or any after it")
