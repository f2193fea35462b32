"""Confidence intervals for a dataset's C = ΣT/ΣN and its total bytes, from a random sample of its records.

C is a ratio of two totals, so from a sample it is estimated by the **ratio
estimator** R̂ = ΣT/ΣN over the sampled records (Cochran, *Sampling
Techniques*, 3rd ed., 1977, ch. 6). Its interval is **Fieller's**: the values R
for which the sample mean of T_i - R N_i is within t(0.975, n-1) standard errors
of 0, i.e. the R solving

    (ȳ - R x̄)² <= t² (1 - f)/n · (s_TT - 2 R s_TN + R² s_NN)

(ȳ, x̄ the sample means of T and N, s the sample (co)variances, f = sampled/
population the finite-population correction, 0 when the population is unknown).
Unlike the delta method's R̂ ± t·√v(R̂) (Cochran eq. 6.9) it is not symmetric:
on corpora mixing short and long records of very different C the delta method
under-covers (docs/sampling.md). Everything comes from six exact sums (n, ΣT,
ΣN, ΣT², ΣN², ΣTN), so shards, resumed runs and merges give the same interval
as one run. An exhaustive run has f = 1: an interval of zero width.

The population's raw bytes are estimated as population × mean T (Cochran §2.4)
with v = population² (1 - f) s_T² / n.

A **cluster sample** (``run --sample-by unit``: whole reading units drawn, every
record of a drawn unit measured) uses the same formulas with the units as the
observations: T_i and N_i are a unit's totals, n the units drawn and f = drawn
units / all units of the dataset (single-stage cluster sampling with clusters of
unequal sizes, Cochran ch. 9: the ratio-to-size estimate is the ratio
estimator of ch. 6 over cluster totals). C = ΣT/ΣN is unchanged; its interval
widens when records within a unit are alike (:func:`cluster_columns`).

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
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

LEVEL = 0.95  # every interval compressbench reports is a 95% one


# the fourth-order sums ΣT^a N^b (a + b = 4) the kurtosis of T - R N needs, by (a, b)
FOURTH = ((4, 0), (3, 1), (2, 2), (1, 3), (0, 4))


@dataclass(frozen=True)
class Moments:
    """The sums a sample's intervals need: records, ΣT, ΣN, ΣT², ΣN², ΣTN (T raw bytes, N tokens),
    and the fourth-order sums ΣT⁴, ΣT³N, ΣT²N², ΣTN³, ΣN⁴ (in :data:`FOURTH`'s order; empty: no correction)."""

    n: int
    t: float
    n_tokens: float
    tt: float
    nn: float
    tn: float
    fourth: tuple[float, ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int]], n: int | None = None) -> "Moments":
        """The sums over observations (T_i, N_i); ``n`` counts observations beyond those listed,
        whose T and N are 0 (a drawn unit of no records, or of failed ones only).

        >>> Moments.of([(10, 5), (30, 5)], n=3)
        Moments(n=3, t=40, n_tokens=10, tt=1000, nn=50, tn=200, fourth=(820000, 140000, 25000, 5000, 1250))
        """
        pairs = list(pairs)

        def total(a: int, b: int) -> int:
            return sum(t ** a * m ** b for t, m in pairs)

        return cls(len(pairs) if n is None else max(n, len(pairs)), total(1, 0), total(0, 1), total(2, 0),
                   total(0, 2), total(1, 1), tuple(total(a, b) for a, b in FOURTH))

    def ratio(self) -> float | None:
        return self.t / self.n_tokens if self.n_tokens else None

    def __sub__(self, other: "Moments") -> "Moments":
        """The sums without ``other``'s records (which must be among these)."""
        return Moments(self.n - other.n, self.t - other.t, self.n_tokens - other.n_tokens, self.tt - other.tt,
                       self.nn - other.nn, self.tn - other.tn,
                       tuple(a - b for a, b in zip(self.fourth, other.fourth)) if other.fourth else self.fourth)


def needed(m: Moments, *, population: int | None, sampled: int, precision: float) -> float | None:
    """How many records bring the interval's half-width under ``precision`` (a share of C), projected from
    the sample so far (the half-width goes as √((1 - f)/n)); None when there is no interval yet.

    >>> m = Moments(4, 40, 10, 420, 26, 104)
    >>> round(needed(m, population=None, sampled=4, precision=0.01)), round(needed(m, population=100, sampled=4, precision=0.01))
    (1561, 94)
    """
    width = half_width(m, population=population, sampled=sampled)
    if width is None:
        return None
    if width < precision:
        return float(sampled)
    rho2 = (width / precision) ** 2
    if not population:
        return sampled * rho2
    return 1 / ((1 / sampled - 1 / population) / rho2 + 1 / population)


def _t_quantile(df: int) -> float:
    from scipy.special import stdtrit  # Student's t quantile (scipy.stats is much slower to import)

    return float(stdtrit(df, 0.5 + LEVEL / 2))


def _fpc(sampled: int, population: int | None) -> float:
    """1 - f, the finite-population correction (1 when the population is unknown)."""
    if not population:
        return 1.0
    return max(0.0, 1.0 - sampled / population)


def ratio_interval(m: Moments, *, population: int | None, sampled: int | None = None) -> tuple[float, float] | None:
    """The 95% interval of C = ΣT/ΣN: Fieller's (None without tokens, or when the sample is too small for
    the interval to be bounded). ``sampled`` counts the records drawn, failed ones included (default ``m.n``).
    """
    r = m.ratio()
    if r is None:
        return None
    fpc = _fpc(m.n if sampled is None else sampled, population)
    if fpc == 0.0:
        return (r, r)
    if m.n < 2:
        return None
    n = m.n
    ybar, xbar = Fraction(m.t) / n, Fraction(m.n_tokens) / n
    syy = (Fraction(m.tt) - n * ybar * ybar) / (n - 1)
    sxx = (Fraction(m.nn) - n * xbar * xbar) / (n - 1)
    sxy = (Fraction(m.tn) - n * xbar * ybar) / (n - 1)
    k = Fraction(_t_quantile(degrees_of_freedom(m))) ** 2 * Fraction(fpc) / n
    # (ybar - R xbar)^2 <= k (syy - 2 R sxy + R^2 sxx): a quadratic a R^2 + b R + c <= 0
    a, b, c = xbar * xbar - k * sxx, -2 * (xbar * ybar - k * sxy), ybar * ybar - k * syy
    disc = float(b * b - 4 * a * c)
    if a <= 0 or disc < 0:
        return None  # the tokens' mean is not significantly above 0: no bounded interval
    root = math.sqrt(disc)
    low, high = float((-b - Fraction(root)) / (2 * a)), float((-b + Fraction(root)) / (2 * a))
    return max(low, 0.0), high  # C > 0: a low end below 0 says only that C may be small


def degrees_of_freedom(m: Moments) -> float:
    """The t quantile's degrees of freedom: n - 1, lowered when the residuals d = T - R̂N are heavy-tailed.

    The variance estimate s_d² is taken as a scaled χ² whose degrees of freedom match its own
    relative variance, 2/(n-1) + κ/n with κ the residuals' excess kurtosis (Satterthwaite 1946):
    a few huge records make s_d² unreliable, and the interval wider.
    """
    n = m.n
    if not m.fourth or n < 4 or not m.n_tokens:
        return n - 1
    R = Fraction(m.t) / Fraction(m.n_tokens)
    ss = Fraction(m.tt) - 2 * R * Fraction(m.tn) + R * R * Fraction(m.nn)  # Σd² (Σd = 0 at R̂)
    if ss <= 0:
        return n - 1
    d4 = sum(c * Fraction(v) * (-R) ** b for c, (a, b), v in zip((1, 4, 6, 4, 1), FOURTH, m.fourth))  # Σd⁴
    kurtosis = float(d4 * n / (ss * ss)) - 3
    return max(1.0, 2 / (2 / (n - 1) + max(kurtosis, 0.0) / n))


def delta_half_width(m: Moments, *, population: int | None, sampled: int | None = None) -> float | None:
    """The delta method's 95% half-width of C (Cochran eq. 6.9), in bytes/token; for comparison in docs and tests."""
    r, fpc = m.ratio(), _fpc(m.n if sampled is None else sampled, population)
    if r is None or m.n < 2:
        return None
    R = Fraction(m.t) / Fraction(m.n_tokens)
    ss = Fraction(m.tt) - 2 * R * Fraction(m.tn) + R * R * Fraction(m.nn)  # Σ (T - R N)², exactly
    return _t_quantile(m.n - 1) * math.sqrt(fpc * float(ss) / (m.n - 1) / m.n) / (m.n_tokens / m.n)


def total_interval(m: Moments, *, population: int | None,
                   sampled: int | None = None) -> tuple[float | None, float | None, float | None]:
    """Estimate and 95% interval of the population's ΣT (all None when the population is unknown).

    ``sampled`` counts the drawn records, failed ones included: a failed record adds 0 bytes, as it
    does to a run's ``raw_bytes``, so an exhaustive run's estimate is its ``raw_bytes``. The low end is
    never below the bytes the sample itself measured.

    >>> total_interval(Moments.of([(10, 5), (30, 5)]), population=4, sampled=4)  # two failed
    (40.0, 40.0, 40.0)
    """
    n = m.n if sampled is None else max(sampled, m.n)
    if population is None or n == 0:
        return None, None, None
    estimate = population * m.t / n
    fpc = _fpc(n, population)
    if fpc == 0.0:
        return estimate, estimate, estimate
    if n < 2:
        return estimate, None, None
    ss = Fraction(m.tt) - Fraction(m.t) ** 2 / n  # Σ (T - mean)² over the drawn records, failed ones as 0
    half = _t_quantile(n - 1) * population * math.sqrt(fpc * float(ss) / (n - 1) / n)
    return estimate, max(estimate - half, float(m.t)), estimate + half


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


def cluster_columns(units: Moments, *, samples: int, population: int | None,
                    population_units: int) -> dict[str, Any]:
    """The sampling columns of a sample of whole reading units: C's and the whole dataset's bytes'
    intervals from the units' totals (``units``: one observation per drawn unit, f = drawn units /
    ``population_units``); ``samples`` and ``population`` count records.

    >>> row = cluster_columns(Moments.of([(10, 5), (30, 5), (20, 4)]), samples=9, population=None, population_units=6)
    >>> row["sampled_units"], row["population_units"], row["sampled_samples"], row["population_raw_bytes_estimate"]
    (3, 6, 9, 120.0)
    """
    return {**columns(units, samples=units.n, population=population_units),
            "sampled_samples": samples, "population_samples": population,
            "sampled_units": units.n, "population_units": population_units}
