"""``parquet``: one row is one sample, read one row group (a reading unit) at a time.

Only the columns the dataset needs are read (the measured field and any label
field), a row group at a time, so memory is bounded by the row group, never by
the file. Text is a string column; media a binary column or a struct with
``bytes`` (how Hugging Face stores Image and Audio features). Ids are
``SOURCE#INDEX``, rows counted from 0 across row groups.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

from compressbench.core.errors import SampleError
from compressbench.data.discover import Found
from compressbench.data.formats import register_format
from compressbench.data.formats.base import (Format, ReadSpec, Record, Unit, failed, field_value, labels_of,
                                             open_source, record_id)

ROWS_PER_BATCH = 256  # rows turned into Python objects at once, within a row group


def _parquet_file(fh: Any, source: Found, metadata: Any = None) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(fh, metadata=metadata)
    except Exception as exc:
        raise SampleError(f"{source.id}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None


@register_format
class Parquet(Format):
    """Apache Parquet; each row group is a reading unit."""

    name = "parquet"
    extensions = (".parquet", ".pq")

    def units(self, source: Found) -> list[Unit]:
        """One unit per row group (from the footer); the whole file when the footer cannot be read
        (reading it then reports why)."""
        try:
            meta = _footer(source)
        except Exception:
            return [Unit(source, self.name)]
        units, first = [], 0
        for group in range(meta.num_row_groups):
            units.append(Unit(source, self.name, part=group, first=first))
            first += meta.row_group(group).num_rows
        return units

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        return self._rows(unit, spec, None)

    def listed(self, unit: Unit) -> list[str] | None:
        """Row ids from the footer's row counts (no data read); a file whose footer cannot be read is
        one record, its failure (:meth:`_rows`)."""
        if unit.part is None:
            return [unit.source.id]
        rows = self.listed_count(unit)
        return None if rows is None else [record_id(unit, unit.first + i) for i in range(rows)]

    def listed_count(self, unit: Unit) -> int | None:
        if unit.part is None:
            return 1
        try:
            return _row_counts(unit.source)[unit.part]
        except Exception:  # the footer read at discovery no longer reads: the unit is read to find out
            return None

    def chosen(self, unit: Unit, spec: ReadSpec, keep: Callable[[str], bool]) -> Iterator[Record]:
        return self._rows(unit, spec, keep)

    def _rows(self, unit: Unit, spec: ReadSpec, keep: Callable[[str], bool] | None) -> Iterator[Record]:
        """The row group's records (only the rows ``keep`` accepts are turned into records)."""
        index = unit.first
        try:
            with open_source(unit.source) as fh:
                pf = _parquet_file(fh, unit.source, None if unit.part is None else _footer(unit.source))
                if unit.part is None:  # units() could not read the footer either
                    raise SampleError(f"{unit.source.id}: has no readable row groups")
                names = pf.schema_arrow.names  # built anew at each access: once per row group, not per row
                columns = [c for c in dict.fromkeys((*spec.fields[:1], *spec.labels)) if c in names]
                table = pf.read_row_group(unit.part, columns=columns)
                positions: list[int] | range = range(table.num_rows)
                if keep is not None:
                    positions = [i for i in positions if keep(record_id(unit, unit.first + i))]
                    table = table.take(positions)
                rows = iter(positions)
                for batch in table.to_batches(max_chunksize=ROWS_PER_BATCH):
                    for row in batch.to_pylist():
                        position = unit.first + next(rows)
                        rid, index = record_id(unit, position), position + 1  # index: where a failure would be
                        yield row_record(unit, rid, row, spec, names)
        except Exception as exc:
            where = unit.source.id if unit.part is None else record_id(unit, index)
            yield failed(unit, where, exc, f"cannot read row group {unit.part}")


def _footer(source: Found) -> Any:
    """A file's footer (schema, row groups), read once and reused by the read of each of its row groups:
    it grows with the row groups, so reading it again for each would read a many-group file many times."""
    return _cached_footer(source, _stamp(source))


def _row_counts(source: Found) -> tuple[int, ...]:
    """Rows per row group, from the footer."""
    return _cached_counts(source, _stamp(source))


def _stamp(source: Found) -> tuple[int, int] | None:
    """A local file's modification time and size (a rewritten file's footer is read again); None for a URL."""
    try:
        info = os.stat(source.path) if source.url is None and source.path is not None else None
    except OSError:
        return None
    return None if info is None else (info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=16)
def _cached_footer(source: Found, stamp: tuple[int, int] | None) -> Any:
    with open_source(source) as fh:
        return _parquet_file(fh, source).metadata


@functools.lru_cache(maxsize=256)
def _cached_counts(source: Found, stamp: tuple[int, int] | None) -> tuple[int, ...]:
    meta = _cached_footer(source, stamp)
    return tuple(meta.row_group(g).num_rows for g in range(meta.num_row_groups))


def row_record(unit: Unit, rid: str, row: dict[str, Any], spec: ReadSpec, names: list[str]) -> Record:
    """The record of one table row (Parquet, Arrow): the field's value and labels, or the row's error."""
    try:
        if spec.fields[0] not in names:
            raise SampleError(f"{rid}: no column {spec.fields[0]!r} (columns: {', '.join(names[:10])}); "
                              f"set the dataset's field")
        return Record(rid, unit, data=field_value(row, spec.fields[0], rid, spec.modality),
                      name=unit.source.name, fields=labels_of(row, spec.labels, rid))
    except SampleError as exc:
        return failed(unit, rid, exc)
