"""``webdataset``: a ``.tar`` shard whose members group into samples by key, as WebDataset does.

``000123.jpg``, ``000123.txt`` and ``000123.json`` are one sample with key
``000123`` (the member path up to the first dot of its file name); its id is
``SOURCE::KEY``. The dataset's field lists the member extensions to measure,
in order of preference (image ``jpg;jpeg;png;webp``, audio
``flac;wav;mp3;opus;ogg``, video ``mp4;webm;mkv``; text ``txt``, the captions).
A ``{field:NAME}`` label reads the member ``KEY.NAME`` or the key NAME of
``KEY.json``. The tar is read as a stream (``.tar.gz`` and friends
decompressed on the way), never whole; a truncated shard yields an error row
where reading failed, everything before it measured.

>>> split_key("shard/000123.seg.png"), split_key("README")
(('shard/000123', 'seg.png'), None)
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from compressbench.core.errors import SampleError
from compressbench.data.formats import register_format
from compressbench.data.formats.base import (DistinctIds, Format, ReadSpec, Record, Unit, failed, label_value,
                                             member_id, open_source)

DEFAULT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "text": ("txt",),
    "image": ("jpg", "jpeg", "png", "webp"),
    "audio": ("flac", "wav", "mp3", "opus", "ogg"),
    "video": ("mp4", "webm", "mkv"),
}
_KEY = re.compile(r"^((?:.*/|)[^./]+)\.([^/]*)$")  # WebDataset's base_plus_ext


def split_key(name: str) -> tuple[str, str] | None:
    """(key, extension) of a member name, or None for a name WebDataset would skip (no extension)."""
    match = _KEY.match(name)
    return (match.group(1), match.group(2)) if match else None


class _Group:
    """The members of one key that the dataset needs, read as they stream past (``id``: the sample's)."""

    def __init__(self, key: str, id: str) -> None:
        self.key, self.id = key, id
        self.members: dict[str, bytes] = {}
        self.seen: list[str] = []
        self.too_large: dict[str, int] = {}


@register_format
class WebDataset(Format):
    """WebDataset tar shards (LAION, DataComp, CC12M style)."""

    name = "webdataset"
    extensions = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.bz2", ".tar.xz")

    def default_fields(self, modality: str) -> tuple[str, ...]:
        return DEFAULT_EXTENSIONS[modality]

    def records(self, unit: Unit, spec: ReadSpec) -> Iterator[Record]:
        wanted = {e.lower() for e in (*spec.fields, *spec.labels)} | ({"json"} if spec.labels else set())
        group: _Group | None = None
        last = None
        distinct = DistinctIds()
        try:
            with open_source(unit.source, decompress=True) as fh, tarfile.open(fileobj=fh, mode="r|*") as tar:
                while (member := tar.next()) is not None:
                    tar.members.clear()  # tarfile keeps every header it read: a long shard would fill memory
                    parts = split_key(member.name) if member.isfile() else None
                    if parts is None:
                        continue
                    key, ext = parts
                    if group is None or key != group.key:
                        if group is not None:
                            yield self._record(unit, group, spec)
                            last = group.id
                        group = _Group(key, distinct(member_id(unit, key)))
                    group.seen.append(ext)
                    if ext.lower() not in wanted:
                        continue
                    if member.size > spec.max_bytes:
                        group.too_large[ext.lower()] = member.size
                        continue
                    reader = tar.extractfile(member)
                    group.members[ext.lower()] = reader.read() if reader else b""
            if group is not None:
                yield self._record(unit, group, spec)
        except Exception as exc:  # a truncated or damaged shard: the sample being read, and all after it, are lost
            where = group.id if group is not None else unit.source.id
            after = f" after {last}" if last else ""
            yield failed(unit, where, exc, f"cannot read the shard from here on{after}")

    def _record(self, unit: Unit, group: _Group, spec: ReadSpec) -> Record:
        rid = group.id
        try:
            return Record(rid, unit, data=self._payload(rid, group, spec), name=PurePosixPath(group.key),
                          fields={n: self._label(rid, group, n) for n in spec.labels})
        except SampleError as exc:
            return failed(unit, rid, exc)

    @staticmethod
    def _payload(rid: str, group: _Group, spec: ReadSpec) -> bytes:
        for ext in spec.fields:
            if ext.lower() in group.members:
                return group.members[ext.lower()]
            if ext.lower() in group.too_large:
                raise SampleError(f"{rid}: member .{ext} is {group.too_large[ext.lower()]:,} bytes, over the limit "
                                  f"of {spec.max_bytes:,} (--max-file-bytes)")
        raise SampleError(f"{rid}: no member with extension {';'.join(spec.fields)} "
                          f"(it has: {', '.join(group.seen)}); set the dataset's field")

    @staticmethod
    def _label(rid: str, group: _Group, name: str) -> str:
        if name.lower() in group.members:
            return group.members[name.lower()].decode("utf-8", "replace").strip()
        meta: Any = None
        if "json" in group.members:
            try:
                meta = json.loads(group.members["json"])
            except ValueError:
                raise SampleError(f"{rid}: member .json is not valid JSON (needed for the label {name!r})") from None
        if isinstance(meta, dict) and name in meta:
            return label_value(meta[name], name, rid)
        raise SampleError(f"{rid}: no member .{name} nor key {name!r} in .json for the language label")
