"""Suite files (TOML): which datasets to measure with which tokenizers.

Example suite::

    name = "multilingual"
    tokenizers = ["bytes", "tiktoken:cl100k_base", "hf:tokenizers/my-bpe.json"]

    [[datasets]]
    name = "udhr"
    modality = "text"
    paths = ["text/udhr/*.txt"]       # files, directories (recursive), globs or URLs
    language = "{stem}"               # a code, or {stem} / {parent} of each file, or {field:NAME} of a record
    reference_language = "eng"        # token premium is relative to it

Relative paths (of datasets and of tokenizer files) are relative to the suite file.

>>> s = parse_suite({"tokenizers": ["bytes"], "datasets": [{"name": "d", "modality": "text", "paths": ["x"]}]},
...                 source="inline", base=Path("."))
>>> s.datasets[0].name, s.tokenizers
('d', ('bytes',))

A tokenizer option may list values separated by ``|`` (a sweep): one tokenizer per value.

>>> parse_suite({"tokenizers": ["qwen2vl:max_pixels=200704|401408"], "datasets": [
...     {"name": "d", "modality": "image", "paths": ["x"]}]}, source="inline", base=Path(".")).tokenizers
('qwen2vl:max_pixels=200704', 'qwen2vl:max_pixels=401408')
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from compressbench.core.errors import ConfigError, reading
from compressbench.core.spec import expand_specs
from compressbench.data.modalities import decoder_for, modalities
from compressbench.data.discover import unicode_name

DEFAULT_SUITE = Path("fixtures") / "suite.toml"
# Where a run's suite came from (provenance ``suite_origin``).
GIVEN, CURRENT_FOLDER, PACKAGED_DEMO = "given", "fixtures/suite.toml in the current folder", "packaged demo"


@dataclass(frozen=True)
class Dataset:
    """A named set of samples of one modality."""

    name: str
    modality: str
    paths: tuple[str, ...]
    base: Path = Path(".")
    language: str | None = None
    reference_language: str = "eng"
    options: dict[str, Any] = field(default_factory=dict)  # passed to the modality's decoder
    format: str = "auto"  # how files hold samples (compressbench.data.formats); auto: by extension
    field: str | None = None  # what a record's sample is: a key or column, or member extensions (a;b)

    @property
    def label_fields(self) -> tuple[str, ...]:
        """The record fields the language label names (``{field:NAME}``)."""
        return tuple(dict.fromkeys(_FIELD_LABEL.findall(self.language or "")))

    def language_of(self, path: PurePath, fields: Mapping[str, str] | None = None) -> str | None:
        """The language label of one sample: the literal label, or its file's (or member's) {stem} or
        {parent}, or a record's {field:NAME}; None when a named field is missing.

        >>> Dataset("d", "text", (), language="{field:lang}-{parent}").language_of(PurePath("a/b.jsonl"), {"lang": "eng"})
        'eng-a'
        """
        if self.language is None:
            return None
        fields = fields or {}
        if any(name not in fields for name in self.label_fields):
            return None
        label = self.language.replace("{stem}", unicode_name(path.stem))  # names and values escaped, if need be
        label = label.replace("{parent}", unicode_name(path.parent.name))
        return _FIELD_LABEL.sub(lambda m: unicode_name(fields[m.group(1)]), label)


@dataclass(frozen=True)
class Suite:
    """Datasets x tokenizers; every tokenizer runs on every dataset of its modality."""

    name: str
    datasets: tuple[Dataset, ...]
    tokenizers: tuple[str, ...]
    base: Path = Path(".")
    source: str = ""


_DATASET_KEYS = {"name", "modality", "paths", "language", "reference_language", "encoding", "options", "format",
                 "field"}
_FIELD_LABEL = re.compile(r"\{field:([^{}]+)\}")
_PLACEHOLDER = re.compile(r"\{(?:stem|parent|field:[^{}]+)\}")


def check_language(label: str, where: str) -> None:
    """Refuse a language label with a brace that is not one of its placeholders (a misspelt one would
    otherwise become every sample's literal label).

    >>> check_language("{field:lang}-{stem}", "suite.toml")
    >>> check_language("{fild:lang}", "suite.toml")
    Traceback (most recent call last):
    ...
    compressbench.core.errors.ConfigError: suite.toml: language '{fild:lang}' has a brace that is not a placeholder; use {stem}, {parent} or {field:NAME} (or a plain code such as eng)
    """
    rest = _PLACEHOLDER.sub("", label)
    if "{" in rest or "}" in rest:
        raise ConfigError(f"{where}: language {label!r} has a brace that is not a placeholder; use {{stem}}, "
                          "{parent} or {field:NAME} (or a plain code such as eng)")


def decoder_options(modality: str, options: dict[str, Any], where: str) -> dict[str, Any]:
    """Check ``options`` against the keyword options of the modality's decoder (e.g. limits)."""
    import inspect

    params = inspect.signature(decoder_for(modality)).parameters
    valid = {n: p for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(f"{where}: unknown {modality} decoder option(s) {', '.join(unknown)}; "
                          f"valid: {', '.join(valid) or 'none'}")
    for name, value in options.items():
        default = valid[name].default
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"{where}: option {name} must be a positive number, got {value!r}")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{where}: option {name} must be a string, got {value!r}")
    if "encoding" in options:
        try:
            codecs.lookup(options["encoding"])
        except LookupError:
            raise ConfigError(f"{where}: unknown text encoding {options['encoding']!r}") from None
    return options


def _dataset(raw: Any, index: int, source: str, base: Path) -> Dataset:
    where = f"{source}: datasets[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table with name, modality and paths")
    unknown = set(raw) - _DATASET_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(_DATASET_KEYS))}")
    for key in ("name", "modality", "paths"):
        if key not in raw:
            raise ConfigError(f"{where}: missing required key {key!r}")
    paths = raw["paths"]
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise ConfigError(f"{where}: 'paths' must be a non-empty list of strings")
    if raw["modality"] not in modalities():
        raise ConfigError(f"{where}: unknown modality {raw['modality']!r}; known: {', '.join(modalities())}")
    name = str(raw["name"])
    if not name.strip() or not name.isprintable():  # it heads report sections and table rows
        raise ConfigError(f"{where}: dataset name {name!r} must be printable text (no line breaks or control "
                          "characters), and not blank")
    for key in ("language", "reference_language", "format", "field"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where}: {key!r} must be a string, got {raw[key]!r}")
    if "language" in raw:
        check_language(raw["language"], where)
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: 'options' must be a table of decoder options, e.g. options = {{ max_pixels = 1e8 }}")
    if "encoding" in raw:
        options = {**options, "encoding": raw["encoding"]}
    options = decoder_options(raw["modality"], options, where)
    fmt = check_format(raw.get("format", "auto"), raw.get("field"), where)
    if fmt in ("files", "zip") and _FIELD_LABEL.search(raw.get("language") or ""):
        raise ConfigError(f"{where}: language {raw['language']!r} names a record's field, but format {fmt!r} holds "
                          "files, which have none; use {stem} or {parent}, or a format of records")
    return Dataset(
        name=name, modality=raw["modality"], paths=tuple(paths), base=base,
        language=raw.get("language"), reference_language=raw.get("reference_language", "eng"), options=options,
        format=fmt, field=raw.get("field"),
    )


def check_format(fmt: str, field_: str | None, where: str) -> str:
    """A dataset's ``format`` (a registered one or ``auto``) and ``field`` (non-empty), or a one-line error."""
    from compressbench.data.formats import format_names, get_format

    if fmt not in format_names():
        try:
            get_format(fmt)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if field_ is not None and not field_.strip(" ;"):
        raise ConfigError(f"{where}: 'field' must name a key, a column or member extensions (a;b), got {field_!r}")
    return fmt


def parse_suite(raw: dict[str, Any], *, source: str, base: Path) -> Suite:
    """Validate a suite's parsed TOML; every problem is a one-line error naming the file."""
    unknown = set(raw) - {"name", "datasets", "tokenizers"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; valid: name, datasets, tokenizers")
    datasets = raw.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise ConfigError(f"{source}: needs at least one [[datasets]] table")
    tokenizers = raw.get("tokenizers")
    if not isinstance(tokenizers, list) or not tokenizers or not all(isinstance(t, str) for t in tokenizers):
        raise ConfigError(f'{source}: needs tokenizers = ["spec", ...], a non-empty list of spec strings')
    try:
        specs = tuple(expand_specs(tokenizers))  # a swept option (max_pixels=a|b) is one tokenizer per value
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    parsed = tuple(_dataset(d, i, source, base) for i, d in enumerate(datasets))
    names = [d.name for d in parsed]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: dataset names must be unique, got {names}")
    return Suite(name=str(raw.get("name", Path(source).stem)), datasets=parsed,
                 tokenizers=specs, base=base, source=source)


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file."""
    path = Path(path)
    with reading(path, "suite file", invalid=(tomllib.TOMLDecodeError,)), path.open("rb") as fh:
        raw = tomllib.load(fh)
    return parse_suite(raw, source=str(path), base=path.parent)


def default_suite() -> tuple[Path, str]:
    """The suite ``compressbench run`` measures when given none, and where it came from: fixtures/suite.toml
    in the current folder, else the demo suite shipped inside the package (so an installed package runs
    from any folder).

    >>> path, origin = default_suite()
    >>> path.name, origin in (CURRENT_FOLDER, PACKAGED_DEMO)
    ('suite.toml', True)
    """
    here = Path.cwd() / DEFAULT_SUITE
    if here.is_file():
        return here, CURRENT_FOLDER
    demo = Path(str(resources.files("compressbench") / "demo" / "suite.toml"))
    if demo.is_file():
        return demo, PACKAGED_DEMO
    raise ConfigError(f"no SUITE given, no default suite at {here} and no demo suite in the package ({demo}); "
                      "pass a suite file: compressbench run SUITE.toml, or reinstall compressbench")


def default_suite_path() -> Path:
    """The path of :func:`default_suite`."""
    return default_suite()[0]
