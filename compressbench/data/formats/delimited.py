"""``csv`` and ``tsv``: one row (after the header row) is one sample; the field names a column.

Files are read streaming (compressed ones decompressed by extension); ids are
``SOURCE#INDEX``, data rows counted from 0. A row without the column is its error row.

>>> from compressbench.data.discover import Found
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.tsv"
>>> _ = path.write_text("lang\\ttext\\neng\\tHello\\nfra\\n")
>>> [(r.id.split("#")[1], r.data, r.error is not None) for r in
...  Tsv().records(Unit(Found("t.tsv", path), "tsv"), ReadSpec("text", ("text",)))]
[('0', 'Hello', False), ('1', None, True)]
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from compressbench.core.errors import SampleError
from compressbench.data.formats import register_format
from compressbench.data.formats.base import (Format, ReadSpec, Record, Unit, failed, field_value, labels_of,
                                             open_source, record_id)

FIELD_LIMIT = 1 << 30  # characters a cell may hold (Python's csv default, 128 KiB, is too small for documents)


@register_format
class Csv(Format):
    """Comma-separated values with a header row."""

    name = "csv"
    extensions = (".csv",)
    delimiter = ","

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        csv.field_size_limit(FIELD_LIMIT)
        # bytes the encoding rejects stay in the text as lone surrogates: that row's error, not the file's
        encoding = "utf-8-sig" if codecs.lookup(spec.encoding).name == "utf-8" else spec.encoding  # a BOM is no text
        index = 0
        try:
            with open_source(unit.source, decompress=True) as fh:
                text = io.TextIOWrapper(fh, encoding=encoding, errors="surrogateescape", newline="")
                reader = csv.DictReader(text, delimiter=self.delimiter)
                for row in reader:
                    rid = record_id(unit, index)
                    index += 1
                    present = {k: v for k, v in row.items() if k is not None and v is not None}
                    try:
                        data = field_value(present, spec.fields[0], rid, spec.modality)
                        labels = labels_of(present, spec.labels, rid)
                        for value in (data, *labels.values()):
                            _decoded(value, rid, spec.encoding)
                        yield Record(rid, unit, data=data, name=unit.source.name, fields=labels)
                    except SampleError as exc:
                        yield failed(unit, rid, exc)
        except Exception as exc:
            yield failed(unit, record_id(unit, index), exc, f"cannot read row {index} or any after it")


def _decoded(value: object, where: str, encoding: str) -> None:
    """Refuse a cell that held bytes ``encoding`` does not decode (kept as lone surrogates)."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SampleError(f"{where}: not valid {encoding} text (byte 0x{ord(value[exc.start]) & 0xFF:02x}); "
                              "set the dataset's encoding if the file is not UTF-8") from None


@register_format
class Tsv(Csv):
    """Tab-separated values with a header row."""

    name = "tsv"
    extensions = (".tsv",)
    delimiter = "\t"
