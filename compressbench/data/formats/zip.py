"""``zip``: each member of a zip archive is one file sample, with id ``SOURCE::MEMBER``.

Folders, hidden files and macOS's ``__MACOSX/`` metadata are skipped; a member
that cannot be read (bad CRC, unsupported compression) is its error row; one over
``--max-file-bytes`` is an error row and is not read. The archive's directory
is read from its end (random access, also remote), members one at a time.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from compressbench.core.errors import SampleError
from compressbench.data.formats import register_format
from compressbench.data.formats.base import (DistinctIds, Format, ReadSpec, Record, Unit, failed, member_id,
                                             open_source)


def _skipped(info: zipfile.ZipInfo) -> bool:
    name = PurePosixPath(info.filename)
    return info.is_dir() or name.parts[:1] == ("__MACOSX",) or any(p.startswith(".") for p in name.parts)


@register_format
class Zip(Format):
    """A zip archive of loose files."""

    name = "zip"
    extensions = (".zip",)

    def default_fields(self, modality: str) -> tuple[str, ...]:
        return ()

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        return self._members(unit, spec, None)

    def listed(self, unit: Unit) -> list[str] | None:
        """Member ids from the archive's directory (no member read)."""
        try:
            with open_source(unit.source) as fh, zipfile.ZipFile(fh) as archive:
                distinct = DistinctIds()
                return [distinct(member_id(unit, i.filename)) for i in archive.infolist() if not _skipped(i)]
        except Exception:
            return None  # reading it reports why

    def chosen(self, unit: Unit, spec: ReadSpec, keep: Callable[[str], bool]) -> Iterator[Record]:
        return self._members(unit, spec, keep)

    def _members(self, unit: Unit, spec: ReadSpec, keep: Callable[[str], bool] | None) -> Iterator[Record]:
        try:
            with open_source(unit.source) as fh, zipfile.ZipFile(fh) as archive:
                distinct = DistinctIds()
                for info in archive.infolist():
                    if _skipped(info):
                        continue
                    rid = distinct(member_id(unit, info.filename))
                    if keep is not None and not keep(rid):
                        continue
                    try:
                        if info.file_size > spec.max_bytes:
                            raise SampleError(f"{rid}: member is {info.file_size:,} bytes, over the limit of "
                                              f"{spec.max_bytes:,} (--max-file-bytes)")
                        data = archive.read(info)
                    except Exception as exc:
                        yield failed(unit, rid, exc)
                        continue
                    yield Record(rid, unit, data=data, name=PurePosixPath(info.filename))
        except Exception as exc:
            yield failed(unit, unit.source.id, exc, "not a readable zip archive")
