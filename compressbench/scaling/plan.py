"""Data plans (TOML): a training mix in natural units, turned into tokens with a run's measurements.

A plan names, per component, a modality, a raw amount and the tokenizer chosen
for it. The amount becomes raw bytes T with the run's per-sample statistics
(text: bytes directly, or characters/words via raw_bytes/chars; audio and video:
raw_bytes/duration_s per second; images: raw_bytes per measured image), then
N = T / C with C = raw_bytes/tokens, the aggregate compression of that
tokenizer on that data. The interval [T/C_p90, T/C_p10] comes from the spread of
per-sample C (its 10th and 90th percentiles): the token count the mix would have
if all of it compressed like the run's worse or better samples. It is a spread,
not a confidence interval, and wider than the uncertainty of the aggregate C.

    name = "speech-heavy"           # optional (default: the file name)
    params = 7e9                    # optional: the model's parameters P

    [compute]                       # optional (default: scratch, 6 P N)
    form = "connected-vision"       # or "scratch"
    encoder_params = 3.04e8
    encoder_factor = 2              # FLOPs per encoder parameter and token (2 frozen, 4 gradients through, 6 trained)
    llm_factor = 6                  # FLOPs per LLM parameter and token
    encoder_modalities = ["image", "video"]

    [terms]                         # optional: values for a hypothesis fit's extra log terms
    vit_params = 3.04e8

    [[data]]
    modality = "text"
    tokenizer = "tiktoken:o200k_base"
    amount = "2 TB"                 # or: amount = 2e12 and unit = "bytes"
    dataset = "prose"               # optional: one dataset's rows (default: all rows pooled)
    name = "web text"               # optional label (default: the modality)

>>> unit_of("text", "GB")
('bytes', 1000000000.0)
>>> parse_amount("1.5 hours")
(1.5, 'hours')
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compressbench.core.errors import ConfigError, reading
from compressbench.core.registry import MODALITIES
_BYTES = {"bytes": 1.0, "b": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15}
_SECONDS = {"s": 1.0, "sec": 1.0, "seconds": 1.0, "min": 60.0, "minutes": 60.0, "h": 3600.0, "hr": 3600.0,
            "hours": 3600.0}
# modality -> unit (lower case) -> (what it counts, factor to that count)
UNITS: dict[str, dict[str, tuple[str, float]]] = {
    "text": {**{u: ("bytes", f) for u, f in _BYTES.items()},
             "chars": ("chars", 1.0), "characters": ("chars", 1.0), "words": ("words", 1.0)},
    "audio": {u: ("seconds", f) for u, f in _SECONDS.items()},
    "video": {u: ("seconds", f) for u, f in _SECONDS.items()},
    "image": {"images": ("items", 1.0), "count": ("items", 1.0), "": ("items", 1.0)},
}
_SHOWN = {"text": "bytes, KB, MB, GB, TB, PB (decimal), chars, words", "audio": "hours, minutes, seconds",
          "video": "hours, minutes, seconds", "image": "images (a count)"}
COMPUTE_FORMS = ("scratch", "connected-vision")


@dataclass(frozen=True)
class Component:
    """One part of the mix: so much of a modality, tokenized by one tokenizer."""

    name: str
    modality: str
    tokenizer: str
    amount: float
    unit: str
    dataset: str | None = None


@dataclass(frozen=True)
class ComputeSpec:
    """How training compute is counted (docs/science.md section 3)."""

    form: str = "scratch"
    encoder_params: float | None = None
    encoder_factor: float = 2.0
    llm_factor: float = 6.0
    encoder_modalities: tuple[str, ...] = ("image", "video")


@dataclass(frozen=True)
class Plan:
    """A training mix: its components, and optionally the model size, compute rule and extra terms."""

    name: str
    components: tuple[Component, ...]
    params: float | None = None
    compute: ComputeSpec = field(default_factory=ComputeSpec)
    terms: dict[str, float] = field(default_factory=dict)

    def with_tokenizer(self, modality: str, tokenizer: str) -> "Plan":
        """The same plan with ``modality``'s components tokenized by ``tokenizer`` (a what-if)."""
        comps = tuple(replace(c, tokenizer=tokenizer) if c.modality == modality else c for c in self.components)
        return replace(self, name=f"{self.name} [{modality}={tokenizer}]", components=comps)


def parse_amount(text: str) -> tuple[float, str]:
    """'2 TB' -> (2.0, 'TB'); '5e6 images' -> (5e6, 'images'); '1000' -> (1000.0, '')."""
    m = re.fullmatch(r"\s*([-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*", text)
    if not m:
        raise ConfigError(f"amount {text!r}: expected a number and a unit, e.g. '2 TB', '1000 hours', '5e6 images'")
    return float(m.group(1).replace("_", "")), m.group(2)


def unit_of(modality: str, unit: str) -> tuple[str, float]:
    """(what the unit counts, factor) for ``modality``, or an error listing the valid units."""
    table = UNITS.get(modality)
    if table is None:
        raise ConfigError(f"unknown modality {modality!r}; known: {', '.join(MODALITIES)}")
    key = unit.strip().lower()
    if key not in table:
        raise ConfigError(f"unknown unit {unit!r} for {modality}; valid: {_SHOWN[modality]}")
    return table[key]


def _number(value: Any, what: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{what}: expected a finite number, got {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"{what}: must be positive, got {value!r}")
    return float(value)


def _component(raw: Any, where: str, index: int) -> Component:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each [[data]] entry must be a table")
    unknown = set(raw) - {"name", "modality", "tokenizer", "amount", "unit", "dataset"}
    if unknown:
        raise ConfigError(f"{where}: [[data]] #{index}: unknown key(s) {', '.join(sorted(unknown))}; "
                          "known: name, modality, tokenizer, amount, unit, dataset")
    modality = raw.get("modality")
    if modality not in MODALITIES:
        raise ConfigError(f"{where}: [[data]] #{index}: unknown modality {modality!r}; known: {', '.join(MODALITIES)}")
    label = f"{where}: {raw.get('name', modality)!s}"
    tokenizer = raw.get("tokenizer")
    if not isinstance(tokenizer, str) or not tokenizer:
        raise ConfigError(f"{label}: 'tokenizer' is missing (the spec as measured, e.g. 'tiktoken:o200k_base')")
    amount, unit = raw.get("amount"), raw.get("unit")
    if isinstance(amount, str):
        if unit is not None:
            raise ConfigError(f"{label}: give the unit inside 'amount' (\"2 TB\") or as 'unit', not both")
        amount, unit = parse_amount(amount)
    if amount is None:
        raise ConfigError(f"{label}: 'amount' is missing, e.g. amount = \"2 TB\"")
    amount = _number(amount, f"{label}: amount")
    unit = "" if unit is None else str(unit)
    if not unit and modality != "image":
        raise ConfigError(f"{label}: the amount needs a unit; valid for {modality}: {_SHOWN[modality]}")
    try:
        _, factor = unit_of(modality, unit)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    if not math.isfinite(amount * factor) or amount * factor > 1e30:  # beyond any corpus, and near overflow
        raise ConfigError(f"{label}: amount {amount:g} {unit} is beyond any corpus (over 1e30 of what it counts)")
    dataset = raw.get("dataset")
    return Component(str(raw.get("name", modality)), modality, tokenizer, amount, unit,
                     None if dataset is None else str(dataset))


def _compute(raw: Any, where: str) -> ComputeSpec:
    if raw is None:
        return ComputeSpec()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [compute] must be a table")
    unknown = set(raw) - {"form", "encoder_params", "encoder_factor", "llm_factor", "encoder_modalities"}
    if unknown:
        raise ConfigError(f"{where}: [compute]: unknown key(s) {', '.join(sorted(unknown))}")
    form = raw.get("form", "scratch")
    if form not in COMPUTE_FORMS:
        raise ConfigError(f"{where}: [compute] form {form!r}; known: {', '.join(COMPUTE_FORMS)}")
    enc = raw.get("encoder_params")
    mods = raw.get("encoder_modalities", ["image", "video"])
    if not isinstance(mods, list) or any(m not in MODALITIES for m in mods):
        raise ConfigError(f"{where}: [compute] encoder_modalities must list modalities of {', '.join(MODALITIES)}")
    return ComputeSpec(form=form, encoder_params=None if enc is None else _number(enc, f"{where}: encoder_params"),
                       encoder_factor=_number(raw.get("encoder_factor", 2.0), f"{where}: encoder_factor"),
                       llm_factor=_number(raw.get("llm_factor", 6.0), f"{where}: llm_factor"),
                       encoder_modalities=tuple(mods))


def read_plan(path: str | Path) -> Plan:
    """Read and check a plan; every problem is a one-line ConfigError naming the file."""
    path = Path(path)
    with reading(path, "TOML plan", invalid=(tomllib.TOMLDecodeError,)):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    where = str(path)
    unknown = set(raw) - {"name", "params", "compute", "terms", "data"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: name, params, compute, "
                          "terms, data")
    entries = raw.get("data")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: no [[data]] entries; a plan lists at least one modality, amount and tokenizer")
    comps = tuple(_component(e, where, i + 1) for i, e in enumerate(entries))
    names = [c.name for c in comps]
    if len(set(names)) != len(names):
        comps = _number_duplicates(comps)
    terms = raw.get("terms", {})
    if not isinstance(terms, dict):
        raise ConfigError(f"{where}: [terms] must be a table of column = value")
    params = raw.get("params")
    return Plan(name=str(raw.get("name", path.stem)), components=comps,
                params=None if params is None else _number(params, f"{where}: params"),
                compute=_compute(raw.get("compute"), where),
                terms={str(k): _number(v, f"{where}: [terms] {k}") for k, v in terms.items()})


def _number_duplicates(comps: tuple[Component, ...]) -> tuple[Component, ...]:
    """Repeated names get a #k suffix, so every component can be told apart."""
    total = {c.name: sum(d.name == c.name for d in comps) for c in comps}
    seen: dict[str, int] = {}
    out = []
    for c in comps:
        if total[c.name] > 1:
            seen[c.name] = seen.get(c.name, 0) + 1
            c = replace(c, name=f"{c.name}#{seen[c.name]}")
        out.append(c)
    return tuple(out)
