"""Tokenizer spec strings: ``family[:argument][,key=value...]``.

A spec names a tokenizer and its configuration as data, so that it can sit in
a suite file, a command line and a results row alike.

>>> s = parse_spec("tiktoken:o200k_base")
>>> (s.family, s.argument, s.options)
('tiktoken', 'o200k_base', {})
>>> parse_spec("spectrogram:n_mels=80,hop=160").options
{'n_mels': '80', 'hop': '160'}

An option (or the argument) may list values separated by ``|``: a sweep, one spec per value
(several swept options: every combination).

>>> expand_specs(["bytes", "qwen2vl,max_pixels=200704|401408"])
['bytes', 'qwen2vl:max_pixels=200704', 'qwen2vl:max_pixels=401408']
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from compressbench.core.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Spec:
    """A parsed spec string: family, optional positional argument, options as strings."""

    family: str
    argument: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    text: str = ""


def parse_spec(text: str) -> Spec:
    """Parse ``family[:argument][,key=value...]``; the argument may itself be ``key=value``."""
    text = text.strip()
    family, _, rest = text.partition(":")
    family = family.strip()
    if not family:
        raise ConfigError(f"empty tokenizer spec {text!r}: write family[:argument][,key=value...], e.g. tiktoken:o200k_base")
    parts = [p.strip() for p in rest.split(",")] if rest else []
    if "," in family:  # "bytes,foo=1": options without an argument
        family, _, opts = family.partition(",")
        parts = [p.strip() for p in opts.split(",")] + parts
    argument: str | None = None
    options: dict[str, str] = {}
    for i, part in enumerate(parts):
        if not part:
            raise ConfigError(f"empty item in tokenizer spec {text!r}")
        key, eq, value = part.partition("=")
        if eq:
            if key.strip() in options:
                raise ConfigError(f"option {key.strip()!r} given twice in tokenizer spec {text!r}")
            options[key.strip()] = value.strip()
        elif i == 0 and ":" in text:
            argument = part
        else:
            raise ConfigError(f"{part!r} in tokenizer spec {text!r} is not key=value; only the first item after ':' may be a bare argument")
    return Spec(family=family, argument=argument, options=options, text=text)


SWEEP = "|"  # separates the values of a swept option: max_pixels=200704|401408


def _sweep_values(raw: str, what: str, text: str) -> list[str]:
    """The values one option (or the argument) lists, each non-empty; ``what`` names it in errors."""
    values = [v.strip() for v in raw.split(SWEEP)]
    if not all(values):
        raise ConfigError(f"empty value in {what} of tokenizer spec {text!r}; list values separated by "
                          f"'{SWEEP}' with none empty, e.g. max_pixels=200704|401408")
    return values


def expand_spec(text: str) -> list[str]:
    """One spec per combination of the values that ``|`` lists (a spec without ``|``: itself, unchanged).

    Options vary in the order written, the last fastest; each spec is written family[:argument][,key=value...].

    >>> expand_spec("spectrogram:n_mels=64|128,hop=160|320")
    ['spectrogram:n_mels=64,hop=160', 'spectrogram:n_mels=64,hop=320', 'spectrogram:n_mels=128,hop=160', \
'spectrogram:n_mels=128,hop=320']
    >>> expand_spec("tiktoken:cl100k_base|o200k_base")
    ['tiktoken:cl100k_base', 'tiktoken:o200k_base']
    """
    if SWEEP not in text:
        return [text.strip()]
    spec = parse_spec(text)
    arguments: list[str | None] = [None]
    if spec.argument is not None:
        arguments = [*_sweep_values(spec.argument, f"the argument {spec.argument!r}", spec.text)]
    keys = list(spec.options)
    axes = [_sweep_values(spec.options[k], f"{k}={spec.options[k]}", spec.text) for k in keys]
    out = []
    for argument, values in itertools.product(arguments, itertools.product(*axes)):
        head = spec.family if argument is None else f"{spec.family}:{argument}"
        items = ",".join(f"{k}={v}" for k, v in zip(keys, values))
        out.append(head + (("," if argument is not None else ":") + items if items else ""))
    return out


def expand_specs(texts: list[str] | tuple[str, ...]) -> list[str]:
    """Every spec of a list with its sweeps expanded, in the order given (see :func:`expand_spec`)."""
    return [one for text in texts for one in expand_spec(text)]


def config_fields(config_cls: type, where: str = "") -> dict[str, tuple[dataclasses.Field, Any]]:
    """A config dataclass's fields with their annotations resolved in the module that defines it.

    String annotations (``from __future__ import annotations``) are evaluated with
    :func:`typing.get_type_hints`, so a plugin's ``Path | None`` resolves; one that
    names something its module does not define is a configuration error.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Cfg:
    ...     root: "Path | None" = None
    >>> config_fields(Cfg)["root"][1]
    pathlib.Path | None
    """
    try:
        hints = typing.get_type_hints(config_cls, globalns={"Path": Path, **vars(sys.modules.get(config_cls.__module__, typing))})
    except Exception as exc:  # NameError, TypeError, SyntaxError from an annotation
        name = f"{config_cls.__module__}.{config_cls.__qualname__}"
        raise ConfigError(f"{where or name}: an annotation of the config {name} cannot be resolved ({type(exc).__name__}: "
                          f"{exc}); import the names it uses in its module") from None
    return {f.name: (f, hints.get(f.name, f.type)) for f in dataclasses.fields(config_cls)}


def _convert(value: str, annotation: Any, where: str) -> Any:
    """Turn a spec option string into the type the config field declares (resolved by :func:`config_fields`)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value.lower() in ("none", "null", ""):
            return None
        annotation = args[0]
    if annotation is bool:
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if annotation in (int, float):
        try:
            number = annotation(value)
        except ValueError:
            raise ConfigError(f"{where}: expected {annotation.__name__}, got {value!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        return number
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return annotation(value)
    return value


def build_config(config_cls: type, spec: Spec, argument_field: str | None) -> Any:
    """Fill a frozen config dataclass from a spec, naming every wrong option and the valid ones.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Cfg:
    ...     encoding: str = "cl100k_base"
    ...     download: bool = False
    >>> build_config(Cfg, parse_spec("tiktoken:o200k_base,download=yes"), "encoding")
    Cfg(encoding='o200k_base', download=True)
    """
    fields = config_fields(config_cls, f"tokenizer {spec.family!r}")
    values: dict[str, Any] = {}
    if spec.argument is not None:
        if argument_field is None:
            raise ConfigError(f"tokenizer {spec.family!r} takes no argument, got {spec.argument!r} in {spec.text!r}")
        values[argument_field] = spec.argument
    for key, raw in spec.options.items():
        if key not in fields:
            valid = ", ".join(fields) or "none"
            raise ConfigError(f"unknown option {key!r} for tokenizer {spec.family!r} in {spec.text!r}"
                              f"{did_you_mean(key, fields)} (valid options: {valid})")
        if key == argument_field and spec.argument is not None:
            raise ConfigError(f"{key!r} given both as argument and option in {spec.text!r}")
        values[key] = raw
    converted = {k: _convert(v, fields[k][1], f"option {k!r} of {spec.text!r}") for k, v in values.items()}
    try:
        return config_cls(**converted)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"tokenizer spec {spec.text!r} is incomplete: {exc}") from None


def canonical_spec(family: str, config: Any, argument_field: str | None) -> str:
    """The spec string that names this exact configuration: non-default options only.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Cfg:
    ...     encoding: str = "cl100k_base"
    ...     download: bool = False
    >>> canonical_spec("tiktoken", Cfg("o200k_base"), "encoding")
    'tiktoken:o200k_base'
    """
    text = family
    items: list[str] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == argument_field:
            if value is not None:
                text += f":{value}"
            continue
        if f.default is not dataclasses.MISSING and value == f.default:
            continue
        items.append(f"{f.name}={str(value).lower() if isinstance(value, bool) else value}")
    if items:
        text += ("," if ":" in text else ":") + ",".join(items)
    return text
