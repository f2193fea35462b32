"""The tokenizer registry: built-in adapters register themselves; others come by entry point.

Built-ins are the modules of ``compressbench.adapters`` (each one calls
:func:`register_tokenizer`); installed packages add families through the
entry-point group ``compressbench.tokenizers`` (name = family, value = the
adapter class). A third-party family that clashes with a built-in is an error.

>>> "bytes" in list_families()
True
>>> get_tokenizer("bytes").name
'bytes'
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import pkgutil
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from compressbench.core.errors import ConfigError, did_you_mean, first_line
from compressbench.core.metrics import COUNTS, UNITS, CountSpec
from compressbench.core.spec import build_config, config_fields, parse_spec

if TYPE_CHECKING:
    from compressbench.adapters.base import Tokenizer

ENTRY_POINT_GROUP = "compressbench.tokenizers"
BUILTIN_PACKAGE = "compressbench.adapters"
_NOT_ADAPTERS = {"base"}  # modules of the adapters package that hold no adapter
# A family name: an identifier that may also hold hyphens (``qwen2vl-video``); never ':' ',' '=' or spaces,
# which the spec syntax uses.
FAMILY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Entry:
    """A registered family: its adapter class and where it came from."""

    cls: type["Tokenizer"]
    origin: str

    @property
    def available(self) -> bool:
        """Whether every module the adapter needs can be imported here (checked without importing)."""
        return not self.missing()

    def missing(self) -> list[str]:
        """The required modules that are not installed."""
        return [m for m in self.cls.requires if importlib.util.find_spec(m) is None]


_entries: dict[str, Entry] = {}
_broken: dict[str, str] = {}
_loaded = False  # set only once every built-in and entry point is in: a failed load is retried
_loading = False  # a plugin that looks the registry up while it is imported sees what is there so far
_counts: dict[str, CountSpec] | None = None  # count_specs(), rebuilt when a family registers
MODALITIES = ("text", "audio", "image", "video")
T = TypeVar("T", bound=type)


def register_tokenizer(cls: T) -> T:
    """Class decorator: register an adapter under its ``family`` name.

    A built-in is an adapter defined in ``compressbench.adapters``; anything
    else that takes a built-in's name raises, rather than silently replacing it.
    """
    origin = "built-in" if cls.__module__.startswith(BUILTIN_PACKAGE + ".") else cls.__module__
    _add(cls, origin)
    return cls


def _check_adapter(cls: type, where: str) -> None:
    """Refuse what cannot work as an adapter, saying what to fix: not a Tokenizer, a Config that is
    not a frozen dataclass (or whose annotations do not resolve), an unknown modality."""
    from compressbench.adapters.base import Tokenizer

    if not isinstance(cls, type) or not issubclass(cls, Tokenizer):
        raise ConfigError(f"{where} is not a subclass of compressbench.adapters.base.Tokenizer; derive the adapter from it")
    modality = getattr(cls, "modality", None)
    if modality not in MODALITIES:
        raise ConfigError(f"{where} has modality {modality!r}; set it to one of: {', '.join(MODALITIES)}")
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and dataclasses.is_dataclass(config) and config.__dataclass_params__.frozen):
        raise ConfigError(f"{where}: its Config must be a frozen dataclass (@dataclass(frozen=True)), got {config!r}")
    config_fields(config, where)
    _check_counts(cls, where)


# Keys of a results row that are not counts: an adapter may not declare a count under these names.
_ROW_KEYS = {"dataset", "modality", "tokenizer", "sample", "language", "raw_bytes", "input_bytes", "file_bytes",
             "tokens", "compression", "seconds", "decode_seconds", "error", "file_sha256", "counted_from"}


def _check_counts(cls: type, where: str) -> None:
    """An adapter's declared counts: CountSpecs whose names clash with no row key nor another declaration."""
    counts = getattr(cls, "counts", {})
    if not isinstance(counts, dict):
        raise ConfigError(f"{where}: 'counts' must be a dict of name -> CountSpec, got {type(counts).__name__}")
    for name, spec in counts.items():
        if not isinstance(spec, CountSpec):
            raise ConfigError(f"{where}: count {name!r} must be declared as a CountSpec(unit, aggregate), got {spec!r}")
        if name in _ROW_KEYS or (name in UNITS and name not in COUNTS):
            raise ConfigError(f"{where}: count {name!r} takes the name of a reported key; choose another name")
        known = COUNTS.get(name) or next((e.cls.counts[name] for e in _entries.values()
                                          if name in e.cls.counts and e.cls is not cls), None)
        if known is not None and known != spec:
            raise ConfigError(f"{where}: count {name!r} is declared elsewhere as {known}; "
                              f"use the same unit and aggregation or another name")


def _add(cls: type, origin: str) -> None:
    family = getattr(cls, "family", None)
    where = f"adapter {cls.__module__}.{cls.__qualname__}"
    if not isinstance(family, str) or not FAMILY_NAME.fullmatch(family):
        raise ConfigError(f"{where} has no valid 'family' name (got {family!r})")
    _check_adapter(cls, where)
    existing = _entries.get(family)
    if existing is not None and existing.cls is not cls:
        raise ConfigError(
            f"tokenizer family {family!r} from {origin} clashes with the one from {existing.origin}; "
            "rename the third-party family"
        )
    global _counts
    _entries[family] = Entry(cls, origin)
    _counts = None


def _load() -> None:
    """Import the built-in adapter modules, then the entry points, once.

    A plugin that fails to import is skipped with a warning and listed in :func:`broken_plugins`
    (it must not take the built-ins down with it); one that takes a built-in's name is an error.
    """
    global _loaded, _loading
    if _loaded or _loading:
        return
    _loading = True
    try:
        _load_all()
        _loaded = True
    finally:
        _loading = False


def _load_all() -> None:
    package = importlib.import_module(BUILTIN_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name not in _NOT_ADAPTERS and not info.name.startswith("_"):
            importlib.import_module(f"{BUILTIN_PACKAGE}.{info.name}")
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ep.value
        try:
            cls = ep.load()
        except Exception as exc:
            _broken[ep.name] = f"plugin of {dist} ({ep.value}) failed to load: {first_line(exc)}"
            warnings.warn(f"compressbench: tokenizer {ep.name!r} skipped: {_broken[ep.name]}", stacklevel=2)
            continue
        if getattr(cls, "family", None) != ep.name:
            raise ConfigError(f"entry point {ep.name!r} ({ep.value}) names a class whose family is {getattr(cls, 'family', None)!r}")
        if ep.name in _entries and _entries[ep.name].cls is cls:
            continue  # it registered itself with the decorator on import
        _add(cls, f"entry point of {dist}")


def count_specs() -> dict[str, CountSpec]:
    """Every count an adapter may report (the built-ins' and each registered adapter's own), by name.

    >>> count_specs()["chars"].aggregate
    'sum'
    """
    global _counts
    _load()
    if _counts is None:  # asked for once a row on resume and merge: built once
        _counts = dict(COUNTS)
        for entry in _entries.values():
            _counts.update(entry.cls.counts)
    return _counts


def units() -> dict[str, str]:
    """The unit of every reported key: the core table plus the counts adapters declare.

    >>> units()["compression"]
    'bytes/token (raw bytes T / tokens N)'
    """
    return {**UNITS, **{name: spec.unit for name, spec in count_specs().items()}}


def broken_plugins() -> dict[str, str]:
    """Entry points that failed to load: family -> why."""
    _load()
    return dict(_broken)


def list_families() -> dict[str, Entry]:
    """Every registered family, built-ins first, by name."""
    _load()
    return dict(sorted(_entries.items(), key=lambda kv: (kv[1].origin != "built-in", kv[0])))


def get_entry(family: str) -> Entry:
    """The entry for ``family``, or an error that suggests the closest names."""
    families = list_families()
    if family in families:
        return families[family]
    if family in _broken:
        raise ConfigError(f"tokenizer {family!r} is not available: {_broken[family]}")
    raise ConfigError(f"unknown tokenizer {family!r}{did_you_mean(family, families)} (known: {', '.join(families)}; "
                      "see `compressbench list`)")


def get_tokenizer(spec: str, *, device: str = "auto", base: Path | None = None) -> "Tokenizer":
    """Build the tokenizer a spec string names, on ``device`` (auto, cpu or cuda).

    Relative file options resolve against ``base`` (default: the current directory).

    >>> get_tokenizer("bytes").family
    'bytes'
    """
    parsed = parse_spec(spec)
    entry = get_entry(parsed.family)
    missing = entry.missing()
    if missing:
        raise ConfigError(
            f"tokenizer {parsed.family!r} needs {', '.join(missing)}, which is not installed; {entry.cls.install_hint}"
        )
    return entry.cls.from_spec(parsed, device=device, base=base)


def canonical_name(spec: str) -> str:
    """The name a tokenizer built from ``spec`` has (its results' ``tokenizer`` key), without building it.

    >>> canonical_name("qwen2vl,max_pixels=401408,patch_size=14")
    'qwen2vl:max_pixels=401408'
    >>> canonical_name("codec")  # the preset's codebooks and the count convention are part of its name
    'codec:encodec_24khz,codebooks=8,count=codebook_tokens'
    """
    parsed = parse_spec(spec)
    cls = get_entry(parsed.family).cls
    return cls.name_of(build_config(cls.Config, parsed, cls.argument))
