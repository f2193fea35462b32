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

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from compressbench.core.errors import SampleError, first_line
from compressbench.data.discover import Found
from compressbench.data.formats import register_format
from compressbench.data.formats.base import Format, ReadSpec, Record, Unit
from compressbench.data.remote import filesystem


class Unreadable(SampleError):
    """A file that was not read; ``marker`` is the sample's status, why it has no digest (e.g. ``too-large``)."""

    def __init__(self, message: str, marker: str) -> None:
        super().__init__(message)
        self.marker = marker


@register_format
class Files(Format):
    """Each file is one sample."""

    name = "files"
    container = False

    def default_fields(self, modality: str) -> tuple[str, ...]:
        return ()

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
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
            info = os.stat(source.path or source.id)
            if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
                raise Unreadable(f"{source.id}: not a regular file (a pipe, socket or device)", "not-a-file")
            size = info.st_size
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
