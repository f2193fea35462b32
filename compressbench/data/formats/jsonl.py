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
    looked at once however long the line; a line over ``max_bytes`` is not held but passed over, and
    comes as its length (:class:`Skipped`). Where the stream has ``read1`` (decompressors do) each read
    returns what one step gave, so a damaged stream loses as little as possible of what came before it.

    >>> list(lines(io.BytesIO(b"ab\\r\\n" + b"x" * 10 + b"\\ncd"), chunk=3, max_bytes=5))
    [b'ab', 10, b'cd']
    """
    read = getattr(fh, "read1", fh.read)
    buffer = bytearray()  # the line so far (no newline in it), then complete lines and the next one's start
    skipped: int | None = None  # bytes so far of a line over the limit
    while block := read(chunk):
        if skipped is not None:
            end = block.find(b"\n")
            if end < 0:
                skipped += len(block)
                continue
            yield Skipped(skipped + end)
            skipped, block = None, block[end + 1:]
        searched = len(buffer)  # the buffer holds no newline: only the new block is searched
        buffer += block
        start = 0
        while (end := buffer.find(b"\n", max(start, searched))) >= 0:
            yield bytes(buffer[start:end]).rstrip(b"\r")
            start = end + 1
        del buffer[:start]
        if max_bytes is not None and len(buffer) > max_bytes:
            skipped = len(buffer)
            buffer.clear()
    if skipped is not None:
        yield Skipped(skipped)
    elif buffer:
        yield bytes(buffer).rstrip(b"\r")


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
