"""A plan's tokens and compute, from the measurements in a run's summary.json.

For each component the summary's rows of its modality × tokenizer (one dataset,
or all of them pooled) give the conversion from the plan's unit to raw bytes T,
the aggregate compression C = Σraw_bytes / Σtokens, and the per-sample spread
(compression_p10, compression_p90). Pooling several datasets sums the additive
counts and takes the widest spread (lowest p10, highest p90), so the interval
stays conservative. Then N = T / C, within [T / C_p90, T / C_p10].

When the rows come from a sampled run (``run --sample``), N's interval is the
sampling 95% confidence interval of C instead, [T / C_ci_high, T / C_ci_low];
pooled datasets take each one's C at the same end of its interval (conservative).
Exhaustive runs, whose interval has zero width, keep the per-sample spread.

Compute: "scratch" counts llm_factor · P · N for every token (6 P N by default);
"connected-vision" (Li et al. 2024) adds encoder_factor · N_enc · N for the tokens
of the encoder's modalities: C ≈ 2·N_enc·D_img + 6·N_LLM·(D_img + D_txt).

>>> rows = [{"dataset": "d", "modality": "text", "tokenizer": "t", "samples": 2, "errors": 0,
...          "raw_bytes": 4000, "tokens": 1000, "chars": 2000, "compression_p10": 3.0, "compression_p90": 5.0}]
>>> from compressbench.scaling.plan import Component, Plan
>>> mix = forecast_mix(Plan("p", (Component("text", "text", "t", 1.0, "GB"),)), rows)
>>> mix.components[0].tokens, mix.components[0].tokens_low, mix.components[0].tokens_high
(250000000.0, 200000000.0, 333333333.3333333)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compressbench.core.errors import ConfigError
from compressbench.scaling.plan import Component, ComputeSpec, Plan, unit_of


@dataclass(frozen=True)
class Measured:
    """The pooled measurements of one modality × tokenizer (one dataset or several)."""

    modality: str
    tokenizer: str
    datasets: tuple[str, ...]
    raw_bytes: float
    tokens: float
    items: float  # samples measured without error
    counts: dict[str, float | None]  # chars, words, duration_s: None when a row lacks it
    p10: float | None
    p90: float | None
    ci: tuple[float, float] | None = None  # 95% confidence interval of C, from a sampled run

    @property
    def interval(self) -> str:
        """Which interval N carries: the sampling confidence interval of C, or the spread of per-sample C."""
        return "sampling 95% CI of C" if self.ci else "per-sample C spread p10..p90"

    @property
    def compression(self) -> float:
        return self.raw_bytes / self.tokens

    def bytes_per(self, kind: str, label: str) -> float:
        """Raw bytes per unit of ``kind`` (bytes, chars, words, seconds, items)."""
        if kind == "bytes":
            return 1.0
        key, what = {"chars": ("chars", "characters"), "words": ("words", "words"),
                     "seconds": ("duration_s", "durations (duration_s)"), "items": ("items", "items")}[kind]
        total = self.items if key == "items" else self.counts.get(key)
        if not total:
            raise ConfigError(f"{label}: the summary's {self.modality} × {self.tokenizer} rows have no {what}, "
                              f"so an amount in that unit cannot be converted to raw bytes; give it in another "
                              f"unit or measure again with a version that records {key}")
        return self.raw_bytes / total


def _canonical(spec: str) -> str:
    """The name a tokenizer of ``spec`` has in a summary (``codec`` is measured as
    ``codec:encodec_24khz,codebooks=8,count=codebook_tokens``); ``spec`` itself when its family is not
    installed here or the spec does not parse.

    >>> _canonical("tiktoken:o200k_base,vocab=o200k.tiktoken"), _canonical("somebody-elses:tokenizer")
    ('tiktoken:o200k_base', 'somebody-elses:tokenizer')
    """
    from compressbench.core.registry import canonical_name

    try:
        return canonical_name(spec)
    except ConfigError:  # unknown family, unparsable spec: matched as written
        return spec


def measurement(rows: Sequence[dict[str, Any]], component: Component, label: str) -> Measured:
    """The rows of the component's modality × tokenizer (× dataset), pooled; an error naming what is missing."""
    same_modality = [r for r in rows if r.get("modality") == component.modality]
    if not same_modality:
        present = sorted({str(r.get("modality")) for r in rows})
        raise ConfigError(f"{label}: the summary has no {component.modality} rows (modalities measured: "
                          f"{', '.join(present) or 'none'}); run a suite with {component.modality} data first")
    names = {component.tokenizer, _canonical(component.tokenizer)}
    matched = [r for r in same_modality if r.get("tokenizer") in names]
    if not matched:
        present = sorted({str(r.get("tokenizer")) for r in same_modality})
        raise ConfigError(f"{label}: tokenizer {component.tokenizer!r} was not measured on {component.modality} "
                          f"in the summary; measured: {', '.join(present)}")
    if component.dataset is not None:
        datasets = sorted({str(r.get("dataset")) for r in matched})
        matched = [r for r in matched if r.get("dataset") == component.dataset]
        if not matched:
            raise ConfigError(f"{label}: dataset {component.dataset!r} has no {component.modality} × "
                              f"{component.tokenizer} row; datasets: {', '.join(datasets)}")
    raw = sum(float(r.get("raw_bytes") or 0) for r in matched)
    tokens = sum(float(r.get("tokens") or 0) for r in matched)
    if raw <= 0 or tokens <= 0:
        raise ConfigError(f"{label}: the summary's {component.modality} × {component.tokenizer} rows have no "
                          "measured raw bytes or tokens (every sample failed?)")
    counts: dict[str, float | None] = {}
    for key in ("chars", "words", "duration_s"):
        vals = [r.get(key) for r in matched]
        counts[key] = None if any(v is None for v in vals) else float(sum(vals))
    p10s = [r.get("compression_p10") for r in matched]
    p90s = [r.get("compression_p90") for r in matched]
    return Measured(component.modality, component.tokenizer, tuple(str(r.get("dataset")) for r in matched),
                    raw, tokens, float(sum(int(r.get("samples", 0)) - int(r.get("errors", 0)) for r in matched)),
                    counts, None if None in p10s else min(p10s), None if None in p90s else max(p90s),
                    sampling_interval(matched))


def sampling_interval(rows: Sequence[dict[str, Any]]) -> tuple[float, float] | None:
    """The 95% confidence interval of the pooled C = ΣT/ΣN of sampled rows (each row's C at the same end of
    its interval); None when a row has none or every interval has zero width (exhaustive runs).

    >>> sampling_interval([{"raw_bytes": 400, "compression_ci_low": 3.0, "compression_ci_high": 5.0},
    ...                    {"raw_bytes": 400, "compression_ci_low": 4.0, "compression_ci_high": 4.0}])
    (3.4285714285714284, 4.444444444444445)
    """
    lows = [r.get("compression_ci_low") for r in rows]
    highs = [r.get("compression_ci_high") for r in rows]
    if not rows or None in lows or None in highs or all(lo == hi for lo, hi in zip(lows, highs)):
        return None
    raw = [float(r.get("raw_bytes") or 0) for r in rows]
    if min(lows) <= 0:  # type: ignore[type-var,operator]
        return None
    return (sum(raw) / sum(t / c for t, c in zip(raw, lows)), sum(raw) / sum(t / c for t, c in zip(raw, highs)))


@dataclass(frozen=True)
class ComponentForecast:
    """One component's raw bytes T, tokens N = T/C and its interval (``measured.interval`` says which)."""

    component: Component
    measured: Measured
    raw_bytes: float
    tokens: float
    tokens_low: float
    tokens_high: float


@dataclass(frozen=True)
class MixForecast:
    """Every component of a plan, forecast."""

    plan: Plan
    components: tuple[ComponentForecast, ...]

    def tokens(self, which: str = "tokens") -> list[float]:
        return [getattr(c, which) for c in self.components]


COUNTS: dict[str, str] = {
    "tokens": "tokens N: the embeddings the model computes on",
    "prompt_tokens": "prompt tokens: the context positions samples take (placeholders and special tokens); "
                     "rows without them (text, audio, video) count their N",
}


def counting(rows: Sequence[dict[str, Any]], count: str) -> list[dict[str, Any]]:
    """Summary rows whose ``tokens`` is ``count``: N itself, or the prompt positions where a row has them.

    The spread of per-sample C is rescaled by the row's prompt_tokens / tokens (the summary keeps no
    per-sample spread of prompt compression), so its interval is approximate.

    >>> counting([{"raw_bytes": 100, "tokens": 10, "prompt_tokens": 20, "compression_p10": 8.0}], "prompt_tokens")
    [{'raw_bytes': 100, 'tokens': 20, 'prompt_tokens': 20, 'compression_p10': 4.0, 'compression': 5.0}]
    """
    if count not in COUNTS:
        raise ConfigError(f"--count {count!r}: expected one of {', '.join(COUNTS)}")
    if count == "tokens":
        return list(rows)
    out = []
    for row in rows:
        prompt, tokens = row.get("prompt_tokens"), row.get("tokens")
        if not prompt or not tokens:
            out.append(row)
            continue
        scaled = {k: row[k] * tokens / prompt for k in ("compression_p10", "compression_p90") if row.get(k)}
        out.append({**row, "tokens": prompt, **scaled, "compression": row["raw_bytes"] / prompt})
    return out


def forecast_component(component: Component, rows: Sequence[dict[str, Any]], label: str) -> ComponentForecast:
    """T, N and N's interval for one component."""
    m = measurement(rows, component, label)
    kind, factor = unit_of(component.modality, component.unit)
    raw = component.amount * factor * m.bytes_per(kind, label)
    n = raw / m.compression
    fast, slow = m.ci[::-1] if m.ci else (m.p90, m.p10)  # the high end of C gives the fewest tokens
    low = raw / fast if fast else n
    high = raw / slow if slow else n
    return ComponentForecast(component, m, raw, n, min(low, n), max(high, n))


def forecast_mix(plan: Plan, rows: Sequence[dict[str, Any]]) -> MixForecast:
    """Every component of ``plan`` forecast with the summary ``rows``."""
    return MixForecast(plan, tuple(forecast_component(c, rows, f"plan {plan.name!r}: {c.name}")
                                   for c in plan.components))


def component_flops(spec: ComputeSpec, params: float, components: Sequence[tuple[str, float]]) -> list[float]:
    """Training FLOPs spent on each (modality, tokens) component for a model of ``params`` parameters."""
    if spec.form == "connected-vision" and spec.encoder_params is None:
        raise ConfigError("compute form 'connected-vision' needs the encoder's parameters "
                          "(encoder_params under [compute], or --encoder-params)")
    out = []
    for modality, tokens in components:
        flops = spec.llm_factor * params * tokens
        if spec.form == "connected-vision" and modality in spec.encoder_modalities:
            flops += spec.encoder_factor * spec.encoder_params * tokens  # type: ignore[operator]
        out.append(flops)
    return out


def finite(value: float | None) -> float | None:
    """None for missing or non-finite values (JSON has no NaN)."""
    return value if value is not None and math.isfinite(value) else None
