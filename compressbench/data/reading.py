"""From a dataset's paths to its records: sources → reading units → records, whatever the format.

The runner sees only units and records; which format reads them is the
dataset's ``format`` (or, with ``auto``, each file's extension).

>>> from compressbench.data.suite import Dataset
>>> ds = Dataset(name="d", modality="text", paths=("README.md", "missing.txt"))
>>> [(r.id, r.error) for u in units(ds) for r in records(ds, u, max_bytes=1 << 30)]
[('README.md', None), ('missing.txt', 'missing.txt: no such file or directory')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from compressbench.data.discover import Found, discover
from compressbench.data.formats import format_for, get_format
from compressbench.data.formats.base import ReadSpec, Record, Unit
from compressbench.data.suite import Dataset


def units(ds: Dataset) -> list[Unit]:
    """The reading units of a dataset, in order (a path that found nothing is a unit of its own error)."""
    found = discover(list(ds.paths), base=ds.base)
    result: list[Unit] = []
    data = False  # whether any file found is data to the format (an empty one, a Parquet without row groups, too)
    for source in found:
        if source.error is not None:
            result.append(Unit(source, "files"))
        else:
            fmt = format_for(ds.format, source.name.name)
            data = data or fmt.is_data(source)
            result += fmt.units(source)
    if found and not result and not data:  # e.g. format = "hf" on a folder without .arrow files
        where = ", ".join(ds.paths)
        result.append(Unit(Found(where, None, f"{where}: no file that format {ds.format!r} reads"), "files"))
    return result


def records(ds: Dataset, unit: Unit, *, max_bytes: int, keep: Callable[[str], bool] | None = None) -> Iterator[Record]:
    """The records of one unit (a loose file is one record, read later when its sample loads);
    with ``keep``, only those whose id it accepts (the format skips reading the others where it can).

    The field is the dataset's (``a;b`` a list), else the unit's format's default for the modality;
    a record over ``max_bytes`` is an error row.
    """
    if unit.source.error is not None:
        yield Record(unit.source.id, unit, name=unit.source.name, error=unit.source.error)
        return
    fmt = get_format(unit.format)
    fields = tuple(f for f in ds.field.split(";") if f) if ds.field else fmt.default_fields(ds.modality)
    spec = ReadSpec(ds.modality, fields, ds.label_fields, max_bytes, ds.options.get("encoding", "utf-8"))
    yield from fmt.records(unit, spec) if keep is None else fmt.chosen(unit, spec, keep)


def file_record(source: Found) -> Record:
    """The record of a loose file (its bytes are read when the sample loads)."""
    return next(records(Dataset("", "text", ()), Unit(source, "files"), max_bytes=0))


def is_loose(unit: Unit) -> bool:
    """Whether a unit is one loose file (one sample, known before reading), not a container of records."""
    return unit.source.error is not None or not get_format(unit.format).container
