"""Corpus formats: how a source file turns into samples, registered like tokenizers.

Built-in formats are the modules of this package (each registers its class
with :func:`register_format`): ``files`` (one file, one sample), ``jsonl``,
``parquet``, ``csv``/``tsv``, ``webdataset``, ``zip`` and ``hf`` (a ``save_to_disk`` folder). Installed packages add
formats through the entry-point group ``compressbench.formats`` (name = the
format, value = a :class:`~compressbench.data.formats.base.Format` subclass); a
plugin may not take a built-in's name. ``format = "auto"`` picks a format by
each file's extension.

>>> format_for("auto", "shards/000.jsonl.gz").name, format_for("auto", "a/b.tar").name
('jsonl', 'webdataset')
>>> format_for("auto", "photos/cat.jpg").name, format_for("parquet", "x.bin").name
('files', 'parquet')
>>> get_format("jsnl")
Traceback (most recent call last):
compressbench.core.errors.ConfigError: unknown format 'jsnl'; did you mean: jsonl? (known: auto, csv, files, hf, jsonl, parquet, tsv, webdataset, zip)
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata
import pkgutil
import warnings
from dataclasses import dataclass
from typing import TypeVar

from compressbench.core.errors import ConfigError, first_line
from compressbench.data.formats.base import COMPRESSIONS, Format

ENTRY_POINT_GROUP = "compressbench.formats"
AUTO = "auto"
_formats: dict[str, type[Format]] = {}
_origins: dict[str, str] = {}
_loaded = False
F = TypeVar("F", bound=type[Format])


def register_format(cls: F) -> F:
    """Class decorator: register a format under its ``name``; a clash with another class is an error."""
    origin = "built-in" if cls.__module__.startswith(__name__ + ".") else cls.__module__
    _add(cls, origin)
    return cls


def _add(cls: type[Format], origin: str) -> None:
    existing = _formats.get(cls.name)
    if existing is not None and existing is not cls:
        raise ConfigError(f"format {cls.name!r} from {origin} clashes with the one from {_origins[cls.name]}; "
                          "rename the third-party format")
    _formats[cls.name], _origins[cls.name] = cls, origin


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:
            warnings.warn(f"compressbench: format {ep.name!r} skipped: {ep.value} failed to load: {first_line(exc)}",
                          stacklevel=2)
            continue
        if getattr(cls, "name", None) != ep.name:
            raise ConfigError(f"entry point {ep.name!r} ({ep.value}) names a format whose name is "
                              f"{getattr(cls, 'name', None)!r}")
        _add(cls, f"entry point of {ep.dist.name if ep.dist else ep.value}")


def format_names() -> list[str]:
    """Every format a dataset may name, ``auto`` included."""
    _load()
    return [AUTO, *sorted(_formats)]


def get_format(name: str) -> Format:
    """The format called ``name`` (not ``auto``), or an error suggesting the closest names."""
    _load()
    if name in _formats:
        return _formats[name]()
    close = difflib.get_close_matches(name, format_names(), n=3, cutoff=0.5)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(f"unknown format {name!r}{hint} (known: {', '.join(format_names())})")


def format_for(declared: str, filename: str) -> Format:
    """The format of one file: the declared one, or with ``auto`` the one its extension says (else ``files``).

    >>> [format_for("auto", n).name for n in ("a.JSONL.gz", "b.tar.gz", "c.txt", "README")]
    ['jsonl', 'webdataset', 'files', 'files']
    """
    if declared != AUTO:
        return get_format(declared)
    _load()
    name = filename.lower()
    for suffix in COMPRESSIONS:  # a.jsonl.gz is JSONL; a.tar.gz a tar
        if name.endswith(suffix) and not name.endswith(".tar" + suffix):
            name = name[: -len(suffix)]
            break
    registered = tuple(_formats.values())
    table = _extensions(registered)
    if table is None:  # an extension that does not start with a dot: try every one on the whole name
        return next((fmt() for fmt in registered if any(name.endswith(ext) for ext in fmt.extensions)),
                    get_format("files"))
    # A dotted extension is the name from one of its last few dots on: a dict lookup each, not a scan of
    # every format's extensions per file. The first registered of the formats that match wins, as in a scan.
    found = [table.formats[tail] for tail in _dotted_tails(name, table.depth) if tail in table.formats]
    return min(found, key=lambda ranked: ranked[0])[1]() if found else get_format("files")


@dataclass(frozen=True)
class _Extensions:
    formats: dict[str, tuple[int, type[Format]]]  # extension -> (registration rank, format): the first registered
    depth: int  # the most dots in an extension


@functools.lru_cache(maxsize=8)
def _extensions(registered: tuple[type[Format], ...]) -> _Extensions | None:
    """The ``registered`` formats by extension; None when one of their extensions does not start with a dot."""
    formats: dict[str, tuple[int, type[Format]]] = {}
    for rank, fmt in enumerate(registered):
        for ext in fmt.extensions:
            if not ext.startswith("."):
                return None
            formats.setdefault(ext, (rank, fmt))
    return _Extensions(formats, max((ext.count(".") for ext in formats), default=0))


def _dotted_tails(name: str, depth: int) -> list[str]:
    """``name`` from each of its last ``depth`` dots on.

    >>> _dotted_tails("shard.001.tar.gz", 2)
    ['.gz', '.tar.gz']
    """
    tails, end = [], len(name)
    for _ in range(depth):
        end = name.rfind(".", 0, end)
        if end < 0:
            break
        tails.append(name[end:])
    return tails
