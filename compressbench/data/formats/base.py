"""What every corpus format shares: reading units, records, and opening a source as a stream.

A **reading unit** is what a format reads in one go and what sharding and
resumption can speak of: a loose file, a JSONL or CSV file, a tar or zip, one
Parquet row group. Units are enumerable before any record is read. A unit
yields **records**: one sample each, with its id, its measured bytes (or
text), the record fields a language label needs, and an error when it could
not be read.

>>> from compressbench.data.discover import Found
>>> unit = Unit(Found("a.jsonl.gz", Path("a.jsonl.gz")), "jsonl")
>>> record_id(unit, 3), member_id(unit, "000042")
('a.jsonl.gz#3', 'a.jsonl.gz::000042')
>>> unit_id(unit), unit_id(Unit(Found("b.parquet", Path("b.parquet")), "parquet", part=2))
('a.jsonl.gz', 'b.parquet@2')
>>> compression_of(PurePosixPath("x/a.jsonl.zst")), compression_of(PurePosixPath("a.jsonl"))
('zstd', None)
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar

from compressbench.core.errors import SampleError, first_line
from compressbench.data.discover import Found, unicode_name
from compressbench.data.remote import filesystem
from compressbench.data.zstdstream import open_zstd

# file extension -> fsspec's name of the compression; decompressed streaming, by extension
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2", ".xz": "xz"}


@dataclass(frozen=True)
class Unit:
    """A reading unit: a whole source file, or one part of it (``part``: a Parquet row group).

    ``first`` is the index, within the source, of the unit's first record (so ids count across parts).
    """

    source: Found
    format: str
    part: int | None = None
    first: int = 0


@dataclass(frozen=True)
class ReadSpec:
    """What a dataset wants from each record."""

    modality: str
    fields: tuple[str, ...]  # the field (column, key, member extensions in order of preference) measured
    labels: tuple[str, ...] = ()  # record fields a ``{field:NAME}`` language label needs
    max_bytes: int = 8 << 30  # a larger record is an error row, never read whole
    encoding: str = "utf-8"  # of a text container that is not UTF-8 by definition (CSV, TSV)


@dataclass
class Record:
    """One sample of a unit: its bytes (or text) to measure, or why it could not be read.

    ``data`` is None for a loose file, read when the sample loads (in a worker for media).
    ``name`` is what ``{stem}`` and ``{parent}`` label: the file, or the member within a container.
    """

    id: str
    unit: Unit
    data: bytes | str | None = None
    name: PurePosixPath = PurePosixPath()
    fields: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None


def unit_id(unit: Unit) -> str:
    """A unit's identity, stable across runs and machines: ``SOURCE`` for a whole file, ``SOURCE@PART``
    for a part of one (a Parquet row group). ``--shard`` assigns units by a hash of it."""
    return unit.source.id if unit.part is None else f"{unit.source.id}@{unit.part}"


def record_id(unit: Unit, index: int) -> str:
    """``SOURCE#INDEX``: the INDEX-th record (from 0) of a JSONL, CSV/TSV, Parquet or HF source."""
    return f"{unit.source.id}#{index}"


def member_id(unit: Unit, key: str) -> str:
    """``SOURCE::KEY``: a WebDataset sample or a zip member (a key whose bytes are not UTF-8 escaped,
    :func:`~compressbench.data.discover.unicode_name`)."""
    return f"{unit.source.id}::{unicode_name(key)}"


class DistinctIds:
    """Sample ids made distinct within a unit: a zip member name or a tar key met again further on (a
    zip may hold a name twice; a shard may repeat a key after others) is a sample of its own, ``ID~2``,
    ``ID~3``…, so that resume, shards and merge never see one id twice. Holds the unit's ids.

    >>> ids = DistinctIds()
    >>> [ids("a.zip::x"), ids("a.zip::y"), ids("a.zip::x"), ids("a.zip::x"), ids("a.zip::x~2")]
    ['a.zip::x', 'a.zip::y', 'a.zip::x~2', 'a.zip::x~3', 'a.zip::x~2~2']
    """

    def __init__(self) -> None:
        self.given: set[str] = set()  # every id handed out
        self.next: dict[str, int] = {}  # a repeated name -> the suffix to try next

    def __call__(self, rid: str) -> str:
        out, n = rid, self.next.get(rid, 2)
        while out in self.given:  # a member may be named like another's suffixed id
            out, n = f"{rid}~{n}", n + 1
        if out != rid:
            self.next[rid] = n
        self.given.add(out)
        return out


def compression_of(name: PurePosixPath) -> str | None:
    """The compression a file's extension says it has (streaming decompression), or None."""
    return COMPRESSIONS.get(name.suffix.lower())


@contextlib.contextmanager
def open_source(source: Found, *, decompress: bool = False) -> Iterator[IO[bytes]]:
    """A binary stream of a source file, local or remote, decompressed by extension when asked.

    Nothing is read whole: the stream reads (and decompresses) as it is consumed.
    """
    compression = compression_of(source.name) if decompress else None
    with _opened(source) as raw:
        if compression is None:
            yield raw
        elif compression == "zstd":  # one that says when the file was cut short (fsspec's ends quietly)
            with open_zstd(raw) as fh:
                yield fh
        else:
            from fsspec.compression import compr

            with compr[compression](raw, mode="rb") as fh:
                yield fh


@contextlib.contextmanager
def _opened(source: Found) -> Iterator[IO[bytes]]:
    """The source's bytes as stored: a remote file through fsspec, a local one when it is a regular file
    (a pipe or a device would never end)."""
    if source.url is not None:
        fs, path = filesystem(source.url)
        with fs.open(path, "rb") as fh:
            yield fh
        return
    if source.path is None:
        raise SampleError(f"{source.id}: {source.error or 'no file'}")
    regular_stat(source)  # before opening: opening a pipe waits for a writer
    with open(source.path, "rb") as fh:
        yield fh


class Unreadable(SampleError):
    """A file that was not read; ``marker`` is the sample's status, why it has no digest (e.g. ``too-large``)."""

    def __init__(self, message: str, marker: str) -> None:
        super().__init__(message)
        self.marker = marker


def regular_stat(source: Found) -> os.stat_result:
    """A local file's ``os.stat``, or ``Unreadable`` when it is not a regular file: a pipe, socket or device
    would block or never end (an OSError of the look itself propagates)."""
    info = os.stat(source.path or source.id)
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"{source.id}: not a regular file (a pipe, socket or device)", "not-a-file")
    return info


def field_value(row: Mapping[str, Any], name: str, where: str, modality: str) -> bytes | str:
    """The measured value of a record: a string for text; bytes (or a ``{bytes: …}`` struct) for media."""
    if name not in row:
        keys = ", ".join(sorted(unicode_name(str(k)) for k in row)[:10]) or "none"
        raise SampleError(f"{where}: the record has no field {name!r} (its fields: {keys}); set the dataset's field")
    value = row[name]
    if modality == "text":
        if not isinstance(value, str):
            raise SampleError(f"{where}: field {name!r} is {type(value).__name__}, not a string")
        return value
    if isinstance(value, Mapping):  # Hugging Face's Image/Audio feature: {bytes, path}
        value = value.get("bytes")
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise SampleError(f"{where}: field {name!r} is {type(value).__name__}, not encoded bytes "
                          f"(a binary column, or a struct with 'bytes')")
    return bytes(value)


def labels_of(row: Mapping[str, Any], names: tuple[str, ...], where: str) -> dict[str, str]:
    """The label fields of a record, as strings (a missing one is the record's error)."""
    missing = [n for n in names if n not in row]
    if missing:
        raise SampleError(f"{where}: the record has no field {missing[0]!r} for the language label")
    return {n: label_value(row[n], n, where) for n in names}


def label_value(value: Any, name: str, where: str) -> str:
    """A record's value for the language label: a string, or a whole number written as one; anything else
    (null, a list, a true/false) is the record's error.

    >>> label_value(7, "lang", "a#0"), label_value("eng", "lang", "a#0")
    ('7', 'eng')
    >>> label_value(["eng"], "lang", "a#1")
    Traceback (most recent call last):
    ...
    compressbench.core.errors.SampleError: a#1: field 'lang' for the language label is list, not a string
    """
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    kind = "null" if value is None else type(value).__name__
    raise SampleError(f"{where}: field {name!r} for the language label is {kind}, not a string")


def failed(unit: Unit, id: str, exc: BaseException, what: str = "cannot read") -> Record:
    """An error record, one line naming the record: a ``SampleError``'s own message, or ``ID: what (reason)``."""
    if isinstance(exc, SampleError):
        message = str(exc) if str(exc).startswith(f"{id}:") else f"{id}: {exc}"
    else:
        message = f"{id}: {what} ({type(exc).__name__}: {first_line(exc)})"
    return Record(id, unit, error=message)


class Format:
    """A corpus format: how a source splits into units and a unit into records.

    Subclasses set ``name`` and ``extensions`` (what ``format = "auto"`` recognises, compressed
    variants included) and implement :meth:`records`; :meth:`units` defaults to the whole file.
    """

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    container: ClassVar[bool] = True  # False: one file is one sample (ids stay the file's)

    def default_fields(self, modality: str) -> tuple[str, ...]:
        """The field measured when the dataset names none."""
        return ("text",) if modality == "text" else (modality,)

    def units(self, source: Found) -> list[Unit]:
        """The reading units of a source, known before any record is read."""
        return [Unit(source, self.name)]

    def is_data(self, source: Found) -> bool:
        """Whether the source holds records of this format (an empty one too), or is something beside
        them (the metadata of a ``save_to_disk`` folder): a dataset of nothing but such files is an error."""
        return True

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        raise NotImplementedError

    def listed(self, unit: Unit) -> list[str] | None:
        """The ids of the unit's records when known without reading its data (``--sample`` then opens
        only units holding a sampled record); None when the unit must be read to know them (a stream)."""
        return None

    def listed_count(self, unit: Unit) -> int | None:
        """How many records :meth:`listed` lists (None for a stream); a format that knows the count
        without building the ids overrides this."""
        ids = self.listed(unit)
        return None if ids is None else len(ids)

    def chosen(self, unit: Unit, spec: ReadSpec, keep: Callable[[str], bool]) -> Iterator[Record]:
        """The unit's records whose id ``keep`` accepts; a format that can skip reading the others overrides this."""
        return (r for r in self.records(unit, spec) if keep(r.id))
