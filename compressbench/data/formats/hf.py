"""``hf``: a Hugging Face ``datasets`` folder written by ``save_to_disk`` (Arrow files), one row one sample.

``save_to_disk`` writes ``data-XXXXX-of-NNNNN.arrow`` files (Arrow IPC
streams of record batches) beside ``state.json`` and ``dataset_info.json``;
point ``paths`` at the folder with ``format = "hf"``. Only the ``.arrow``
files are read (each a reading unit), one record batch at a time, with
pyarrow (the ``datasets`` library is not needed). Ids are ``SOURCE#INDEX``,
SOURCE being the Arrow file. Fields as for Parquet: a string column for text,
binary or a ``{bytes, path}`` struct (``Image``, ``Audio`` features) for media.
"""

from __future__ import annotations

from collections.abc import Iterator

from compressbench.data.discover import Found
from compressbench.data.formats import register_format
from compressbench.data.formats.base import Format, ReadSpec, Record, Unit, failed, open_source, record_id
from compressbench.data.formats.parquet import row_record


@register_format
class HuggingFace(Format):
    """A ``datasets.Dataset.save_to_disk`` folder."""

    name = "hf"
    extensions = ()  # never chosen by auto: an .arrow file may be any Arrow stream; say format = "hf"

    def is_data(self, source: Found) -> bool:
        return source.name.suffix == ".arrow"  # the folder's JSON metadata is not data

    def units(self, source: Found) -> list[Unit]:
        """One unit per Arrow file."""
        return [Unit(source, self.name)] if self.is_data(source) else []

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        import pyarrow.ipc

        index = 0
        try:
            with open_source(unit.source) as fh:
                reader = pyarrow.ipc.open_stream(fh)
                names = reader.schema.names
                for batch in reader:
                    for row in batch.select([c for c in dict.fromkeys((*spec.fields[:1], *spec.labels))
                                             if c in names]).to_pylist():
                        rid = record_id(unit, index)
                        index += 1
                        yield row_record(unit, rid, row, spec, names)
        except Exception as exc:
            yield failed(unit, record_id(unit, index), exc, f"cannot read record {index} or any after it")
