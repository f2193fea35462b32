"""Bootstrap over rows: percentile intervals for parameters, derived quantities and predictions.

Each resample draws n rows with replacement (numpy's default_rng(seed), so a
seed reproduces every draw) and refits. The saturating forms refit from one start,
the full fit's optimum, with tight tolerances (see
:mod:`compressbench.scaling.fitting` for why), instead of the whole grid: a
resample moves the optimum a little, and 4500 starts a resample would cost
about two hours for 1000 resamples. A resample the data cannot fit (e.g. one level of a variable) is counted
as failed and left out.

>>> import numpy as np
>>> from compressbench.scaling.fitting import FitData, estimate
>>> x = np.arange(1.0, 21.0); y = 1 + 2 * np.log(x) + np.sin(x) / 10
>>> data = FitData("hypothesis", y, {"x": x})
>>> draws = bootstrap(data, resamples=50, seed=0, starts=None)
>>> lo, hi = intervals(draws)["x"]
>>> bool(lo < estimate(data).parameters["x"] < hi)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from compressbench.scaling.fitting import FitData, FitError, estimate
from compressbench.scaling.laws import derived_quantities, predict

Array = NDArray[np.float64]
LEVEL = 0.95  # central percentile intervals


@dataclass
class Draws:
    """The parameters of every successful resample, one row each, columns in ``keys`` order."""

    keys: list[str]
    values: Array
    resamples: int
    failed: int
    seed: int

    def rows(self) -> list[dict[str, float]]:
        return [dict(zip(self.keys, row)) for row in self.values]


def bootstrap(data: FitData, *, resamples: int, seed: int, starts: Array | None) -> Draws:
    """Refit ``data`` on ``resamples`` row resamples (module docstring)."""
    rng = np.random.default_rng(seed)
    keys: list[str] = []
    rows: list[list[float]] = []
    failed = 0
    for _ in range(resamples):
        idx = rng.integers(0, data.n, size=data.n)
        try:
            est = estimate(data.subset(idx), starts=starts)
        except FitError:
            failed += 1
            continue
        keys = keys or list(est.parameters)
        rows.append([est.parameters[k] for k in keys])
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(keys))
    return Draws(keys, values, resamples, failed, seed)


def percentile_interval(values: Array, level: float = LEVEL) -> list[float] | None:
    """[low, high] central percentile interval of finite ``values`` along axis 0; None without values."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] < 2:
        return None
    tail = 100 * (1 - level) / 2
    lo, hi = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return [lo, hi]


def intervals(draws: Draws, level: float = LEVEL) -> dict[str, list[float] | None]:
    """Percentile intervals per parameter ({} when no draws)."""
    if draws.values.shape[0] < 2:
        return {k: None for k in draws.keys}
    lo, hi = percentile_interval(draws.values, level)  # type: ignore[misc]
    return {k: [float(lo[i]), float(hi[i])] for i, k in enumerate(draws.keys)}


def correlation(draws: Draws) -> dict[str, dict[str, float | None]] | None:
    """The parameters' correlation matrix over the bootstrap draws (None with fewer than 3)."""
    if draws.values.shape[0] < 3:
        return None
    with np.errstate(all="ignore"):
        c = np.corrcoef(draws.values, rowvar=False)
    c = np.atleast_2d(c)
    return {a: {b: (float(c[i, j]) if np.isfinite(c[i, j]) else None) for j, b in enumerate(draws.keys)}
            for i, a in enumerate(draws.keys)}


def derived_draws(form: str, draws: Draws) -> dict[str, Array]:
    """Each derived quantity (:func:`derived_quantities`) evaluated on every draw."""
    out: dict[str, list[float]] = {}
    for row in draws.rows():
        for k, v in derived_quantities(form, row).items():
            out.setdefault(k, []).append(v)
    return {k: np.asarray(v) for k, v in out.items()}


def prediction_draws(form: str, draws: Draws, features: dict[str, Array]) -> Array:
    """Predictions at ``features`` for every draw: shape (draws, points)."""
    with np.errstate(all="ignore"):
        return np.array([np.atleast_1d(predict(form, row, features)) for row in draws.rows()])


def prediction_intervals(form: str, draws: Draws, features: dict[str, Array], level: float = LEVEL
                         ) -> tuple[Array, Array] | None:
    """Percentile bands (low, high) of the predictions at ``features``; None without draws."""
    if draws.values.shape[0] < 2:
        return None
    band = percentile_interval(prediction_draws(form, draws, features), level)
    return None if band is None else (np.asarray(band[0]), np.asarray(band[1]))
