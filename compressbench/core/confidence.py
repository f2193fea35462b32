"""Confidence intervals for a dataset's C = ΣT/ΣN and its total bytes, from a random sample of its records.

C is a ratio of two totals, so from a sample it is estimated by the **ratio
estimator** R̂ = ΣT/ΣN over the sampled records. Its variance, by the delta
method (Cochran, *Sampling Techniques*, 3rd ed., 1977, §6.3-6.4, eq. 6.9), is

    v(R̂) = (1 - f) / (n · x̄²) · s_d²,   s_d² = Σ (T_i - R̂ N_i)² / (n - 1)

with n sampled records, x̄ = ΣN/n, and f = n/population the sampling fraction
(finite-population correction; 0 when the population is unknown). The 95%
interval is R̂ ± t(0.975, n-1) · √v. Everything comes from six exact sums (n,
ΣT, ΣN, ΣT², ΣN², ΣTN), so shards, resumed runs and merges give the same
interval as one run. An exhaustive run has f = 1: an interval of zero width.

The population's raw bytes are estimated as population × mean T (Cochran §2.4)
with v = population² (1 - f) s_T² / n.

>>> m = Moments(n=4, t=40, n_tokens=10, tt=420, nn=26, tn=104)
>>> round(m.ratio(), 3)
4.0
>>> lo, hi = ratio_interval(m, population=None)
>>> lo < 4.0 < hi
True
>>> ratio_interval(m, population=4)
(4.0, 4.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

LEVEL = 0.95  # every interval compressbench reports is a 95% one


@dataclass(frozen=True)
class Moments:
    """The sums a sample's intervals need: records, ΣT, ΣN, ΣT², ΣN², ΣTN (T raw bytes, N tokens)."""

    n: int
    t: float
    n_tokens: float
    tt: float
    nn: float
    tn: float

    def ratio(self) -> float | None:
        return self.t / self.n_tokens if self.n_tokens else None


def _t_quantile(df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + LEVEL / 2, df))


def _fpc(sampled: int, population: int | None) -> float:
    """1 - f, the finite-population correction (1 when the population is unknown)."""
    if not population:
        return 1.0
    return max(0.0, 1.0 - sampled / population)


def ratio_interval(m: Moments, *, population: int | None, sampled: int | None = None) -> tuple[float, float] | None:
    """The 95% interval of C = ΣT/ΣN (None without tokens, or a single record of an unknown population).

    ``sampled`` counts the records drawn, failed ones included (default ``m.n``).
    """
    r = m.ratio()
    if r is None:
        return None
    fpc = _fpc(m.n if sampled is None else sampled, population)
    if fpc == 0.0:
        return (r, r)
    if m.n < 2:
        return None
    R = Fraction(m.t) / Fraction(m.n_tokens)
    ss = Fraction(m.tt) - 2 * R * Fraction(m.tn) + R * R * Fraction(m.nn)  # Σ (T - R N)², exactly
    xbar = m.n_tokens / m.n
    half = _t_quantile(m.n - 1) * math.sqrt(fpc * float(ss) / (m.n - 1) / m.n) / xbar
    return (r - half, r + half)


def total_interval(m: Moments, *, population: int | None,
                   sampled: int | None = None) -> tuple[float | None, float | None, float | None]:
    """Estimate and 95% interval of the population's ΣT (all None when the population is unknown)."""
    if population is None or m.n == 0:
        return None, None, None
    estimate = population * m.t / m.n
    fpc = _fpc(m.n if sampled is None else sampled, population)
    if fpc == 0.0:
        return estimate, estimate, estimate
    if m.n < 2:
        return estimate, None, None
    ss = Fraction(m.tt) - Fraction(m.t) ** 2 / m.n
    half = _t_quantile(m.n - 1) * population * math.sqrt(fpc * float(ss) / (m.n - 1) / m.n)
    return estimate, estimate - half, estimate + half


def half_width(m: Moments, *, population: int | None, sampled: int | None = None) -> float | None:
    """The 95% interval's half-width as a share of C (None when there is no interval)."""
    interval, r = ratio_interval(m, population=population, sampled=sampled), m.ratio()
    if interval is None or not r:
        return None
    return (interval[1] - interval[0]) / 2 / r


def columns(m: Moments, *, samples: int, population: int | None) -> dict[str, Any]:
    """The summary row's sampling columns (``samples`` counts failed records too)."""
    interval = ratio_interval(m, population=population, sampled=samples) or (None, None)
    estimate, low, high = total_interval(m, population=population, sampled=samples)
    return {"compression_ci_low": interval[0], "compression_ci_high": interval[1],
            "sampled_samples": samples, "population_samples": population,
            "population_raw_bytes_estimate": estimate,
            "population_raw_bytes_ci_low": low, "population_raw_bytes_ci_high": high}
