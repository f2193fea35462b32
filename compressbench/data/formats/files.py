"""``files``: one file, one sample (a loose file's id is its path, or its URL).

The file is read when the sample loads (in a worker process for media), not
when the run lists it.

>>> from compressbench.data.discover import Found
>>> [r.id for r in Files().records(Unit(Found("README.md", Path("README.md")), "files"), ReadSpec("text", ()))]
['README.md']
>>> len(read_file(Found("README.md", Path("README.md")), max_bytes=1 << 30)) > 0
True
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from compressbench.core.errors import first_line
from compressbench.data.discover import Found
from compressbench.data.formats import register_format
from compressbench.data.formats.base import Format, ReadSpec, Record, Unit, Unreadable, regular_stat
from compressbench.data.remote import filesystem


@register_format
class Files(Format):
    """Each file is one sample."""

    name = "files"
    container = False

    def default_fields(self, modality: str) -> tuple[str, ...]:
        return ()

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        if spec.labels:  # {field:NAME} over format "auto": this file is not a container of records
            yield Record(unit.source.id, unit, name=unit.source.name,
                         error=f"{unit.source.id}: a loose file has no field {spec.labels[0]!r} for the language label "
                               "(only records have fields); measure it in a dataset of its own, or list only the "
                               "record files")
            return
        yield Record(unit.source.id, unit, name=unit.source.name)

    def listed(self, unit: Unit) -> list[str] | None:
        return [unit.source.id]


def checked_size(source: Found, *, max_bytes: int) -> int | None:
    """A loose file's size in bytes (None when a server does not say); ``Unreadable`` (naming the file)
    when it is not a regular file, is over ``max_bytes`` or cannot be looked at."""
    try:
        if source.url is not None:
            fs, path = filesystem(source.url)
            size = fs.size(path)
        else:
            size = regular_stat(source).st_size
    except Unreadable:
        raise
    except Exception as exc:  # OSError locally; a remote back-end raises its own (aiohttp, botocore)
        raise _unreadable(source, exc) from None
    if size is not None and size > max_bytes:
        raise Unreadable(f"{source.id}: file is {size:,} bytes, over the limit of {max_bytes:,} "
                         f"(--max-file-bytes)", "too-large")
    return size


def read_file(source: Found, *, max_bytes: int, checked: bool = False) -> bytes:
    """The bytes of a loose file; ``Unreadable`` (naming the file) when it is not a regular file,
    is over ``max_bytes`` (not read), or cannot be read. ``checked``: :func:`checked_size` has just
    looked at this local file (it is not looked at twice)."""
    if not checked:
        checked_size(source, max_bytes=max_bytes)
    try:
        if source.url is None:
            with open(source.path or source.id, "rb") as fh:
                data = fh.read()  # its size is known (not over max_bytes); checked again below
        else:
            fs, path = filesystem(source.url)
            with fs.open(path, "rb") as fh:
                data = fh.read(max_bytes + 1)  # a server may not say the size: never read past the limit
    except Exception as exc:
        raise _unreadable(source, exc) from None
    if len(data) > max_bytes:
        raise Unreadable(f"{source.id}: file is over the limit of {max_bytes:,} bytes (--max-file-bytes)", "too-large")
    return data


def _unreadable(source: Found, exc: Exception) -> Unreadable:
    reason = getattr(exc, "strerror", None) or first_line(exc)
    return Unreadable(f"{source.id}: cannot read ({reason})", "unreadable")
