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


def lines(fh: IO[bytes], *, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The lines of a binary stream without their line ends, read at most ``chunk`` bytes at a time
    (any readable stream, decompressors included; holds at most one line and one chunk). Where the
    stream has ``read1`` (decompressors do) each read returns what one step gave, so a damaged
    stream loses as little as possible of what came before the damage."""
    read = getattr(fh, "read1", fh.read)
    pending = b""
    while True:
        block = read(chunk)
        if not block:
            break
        pending += block
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.rstrip(b"\r")
    if pending:
        yield pending.rstrip(b"\r")


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
                for line in lines(fh):
                    if not line.strip():
                        continue
                    rid = record_id(unit, index)
                    index += 1
                    try:
                        row = parse_record(line, rid)
                        yield Record(rid, unit, data=field_value(row, spec.fields[0], rid, spec.modality),
                                     name=unit.source.name, fields=labels_of(row, spec.labels, rid))
                    except SampleError as exc:
                        yield failed(unit, rid, exc)
        except Exception as exc:  # damaged or truncated compression, a lost connection: the rest is unread
            yield failed(unit, record_id(unit, index), exc, f"cannot read record {index} or any after it")
