"""Mergeable aggregates per dataset x modality x tokenizer (and per language).

Compression aggregates as sum(T) / sum(N), token-weighted, never as the mean of
per-sample ratios; the spread of per-sample C is reported beside it. Two halves
of a dataset aggregated apart and merged equal the whole, exactly.

>>> from compressbench.core.sample import Measurement
>>> a = Aggregate()
>>> a.add(Measurement("d", "text", "bytes", "x", 10, 10, 10, 5, 0.1))
>>> a.add(Measurement("d", "text", "bytes", "y", 30, 30, 30, 5, 0.1))
>>> a.summary()["compression"]
4.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compressbench.core.confidence import FOURTH, Moments
from compressbench.core.exactsum import ExactSum
from compressbench.core.metrics import derived, finite_or_none, ratio
from compressbench.core.registry import count_specs
from compressbench.core.sample import Measurement
from compressbench.core.spread import Spread

_SUMMED = ("raw_bytes", "input_bytes", "file_bytes", "tokens", "seconds", "decode_seconds")
_MOMENTS = ((2, 0), (0, 2), (1, 1), *FOURTH)  # sums of T^a N^b the sampling interval needs (core/confidence.py)


@dataclass
class Aggregate:
    """Running sums over measurements (exact, so merges equal the whole), plus per-sample C for the spread."""

    samples: int = 0
    errors: int = 0
    sums: dict[str, ExactSum] = field(default_factory=lambda: {k: ExactSum() for k in _SUMMED})
    counts: dict[str, ExactSum] = field(default_factory=dict)
    per_sample: Spread | None = field(default_factory=Spread)  # per-sample C, for its mean and percentiles
    # (None: not kept, as for the per-language aggregates, whose rows report no spread)
    peaks: dict[str, float] = field(default_factory=dict)  # counts declared to aggregate as their maximum
    means: dict[str, tuple[ExactSum, int]] = field(default_factory=dict)  # counts declared as a per-sample mean
    moments: dict[tuple[int, int], ExactSum] = field(default_factory=lambda: {k: ExactSum() for k in _MOMENTS})
    units: dict[str, tuple[int, int]] = field(default_factory=dict)  # ΣT, ΣN per reading unit (--sample-by unit)

    def add(self, m: Measurement) -> None:
        """Count one measurement; a failed one counts as a sample and an error only. A row of a run that
        sampled whole units names its unit (``unit``): the unit's totals are kept for the interval."""
        self.samples += 1
        unit = m.meta.get("unit")
        if unit is not None:
            t, n = self.units.get(unit, (0, 0))
            if m.error is None:
                t, n = t + (m.raw_bytes or 0), n + (m.tokens or 0)
            self.units[unit] = (t, n)
        if m.error is not None:
            self.errors += 1
            return
        for key in _SUMMED:
            self.sums[key].add(getattr(m, key) or 0)
        specs = count_specs()
        for key, value in m.counts.items():
            how = specs[key].aggregate if key in specs else "sum"
            if how == "max":
                self.peaks[key] = max(self.peaks.get(key, value), value)
            elif how == "mean":
                total, n = self.means.get(key, (ExactSum(), 0))
                total.add(value)
                self.means[key] = (total, n + 1)
            else:
                self.counts.setdefault(key, ExactSum()).add(value)
        if m.compression is not None and self.per_sample is not None:
            self.per_sample.add(m.compression)
        t, n = m.raw_bytes or 0, m.tokens or 0
        for a, b in _MOMENTS:
            self.moments[a, b].add(t ** a * n ** b)

    def merge(self, other: "Aggregate") -> "Aggregate":
        """A new aggregate equal to the one over both inputs' samples."""
        out = Aggregate(per_sample=None if self.per_sample is None else Spread())
        out.absorb(self)
        out.absorb(other)
        return out

    def absorb(self, other: "Aggregate") -> None:
        """Count ``other``'s samples here too, in place (in time proportional to ``other``, not to this one)."""
        self.samples += other.samples
        self.errors += other.errors
        for part, theirs in ((self.sums, other.sums), (self.counts, other.counts), (self.moments, other.moments)):
            for k, v in theirs.items():
                part[k] = part.get(k, ExactSum()).merge(v)
        if self.per_sample is not None:
            if other.per_sample is None and other.samples > other.errors:
                raise ValueError("cannot absorb an aggregate that kept no per-sample C into one that keeps them")
            self.per_sample.absorb(other.per_sample or Spread())
        for k, v in other.peaks.items():
            self.peaks[k] = max(self.peaks.get(k, v), v)
        for k, v in other.means.items():
            self.means[k] = _merge_mean(self.means.get(k), v)
        for u, v in other.units.items():
            self.units[u] = _add_pairs(self.units.get(u), v)

    def total(self, key: str) -> float:
        """The sum of ``key`` (raw_bytes, tokens, seconds, ... or a count such as duration_s)."""
        if key in self.peaks:
            return self.peaks[key]
        if key in self.means:
            total, n = self.means[key]
            return total.value / n
        source = self.sums if key in self.sums else self.counts
        return source[key].value if key in source else 0

    def summary(self) -> dict[str, Any]:
        """The reported numbers (units in ``compressbench.core.metrics.UNITS``)."""
        s = {k: v.value for k, v in self.sums.items()}
        counts = {k: v.value for k, v in self.counts.items()}
        out: dict[str, Any] = {
            "samples": self.samples,
            "errors": self.errors,
            "raw_bytes": int(s["raw_bytes"]),
            "input_bytes": int(s["input_bytes"]),
            "file_bytes": int(s["file_bytes"]),
            "tokens": int(s["tokens"]),
        }
        out.update(derived({**counts, **{k: s[k] for k in ("raw_bytes", "input_bytes", "tokens")}}))
        if self.per_sample is not None:
            out.update(self.per_sample.summary())
        out["seconds"] = s["seconds"]
        out["decode_seconds"] = s["decode_seconds"]
        out["raw_mb_per_s"] = ratio(s["raw_bytes"] / 1e6, s["seconds"])
        out["tokens_per_s"] = ratio(s["tokens"], s["seconds"])
        out.update(counts)
        out.update(self.peaks)
        out.update({k: total.value / n for k, (total, n) in self.means.items()})
        return {k: finite_or_none(v) if isinstance(v, float) else v for k, v in out.items()}

    def sample_moments(self) -> Moments:
        """The exact sums the sampling interval of C needs, over the measured (not failed) samples."""
        tt, nn, tn, *fourth = (self.moments[k].value for k in _MOMENTS)
        return Moments(self.samples - self.errors, self.sums["raw_bytes"].value, self.sums["tokens"].value,
                       tt, nn, tn, tuple(fourth))

    def unit_moments(self, drawn: int, keep: Callable[[str], bool] | None = None) -> Moments:
        """The sums the interval of a sample of whole units needs: one observation (ΣT, ΣN) per unit,
        ``drawn`` units in all (those without a row count as zeros); ``keep`` selects units by id."""
        return Moments.of((tn for u, tn in self.units.items() if keep is None or keep(u)), n=drawn)


def _merge_mean(a: tuple[ExactSum, int] | None, b: tuple[ExactSum, int] | None) -> tuple[ExactSum, int]:
    """The running (sum, count) of a per-sample mean over both sides."""
    a = a or (ExactSum(), 0)
    b = b or (ExactSum(), 0)
    return a[0].merge(b[0]), a[1] + b[1]


def _add_pairs(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int]:
    """A unit's (ΣT, ΣN) over both sides."""
    a, b = a or (0, 0), b or (0, 0)
    return a[0] + b[0], a[1] + b[1]
