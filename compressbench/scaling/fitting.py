"""Estimators: least squares for the log-linear forms, Approach 3 for Chinchilla, Huber for Kaplan.

Approach 3 (Hoffmann et al. 2022, as Epoch AI's replication pins it down) minimises
the *sum* over runs of Huber_δ(LSE(a − α ln N, b − β ln D, e) − ln L), δ = 1e-3,
with A, B, E = exp(a, b, e), by L-BFGS-B from every point of the grid
a, b ∈ {0, 5, …, 25}, e ∈ {−1, −0.5, …, 1}, α, β ∈ {0, 0.5, …, 2} (4500 starts),
in float64, and keeps the lowest loss. The objective and its analytic gradient are
vectorised over runs; summing (not averaging) matters, since an averaged loss makes
L-BFGS stop early.

Refits (bootstrap resamples, cross-validation folds) pass their own starts and
run with tight tolerances (:data:`REFIT_OPTIONS`): they start from the full fit's
optimum (:func:`reuse_starts`). With scipy's default tolerances a start at the
old optimum stops at once (the loss barely changes), which made Epoch's bootstrap
intervals about 100 times too narrow; starting from the winning grid point
instead left 2.5% of resamples in a worse local minimum (α down to 0.2).

>>> import numpy as np
>>> N = np.repeat([1e8, 1e9, 1e10], 3); D = np.tile([1e9, 1e10, 1e11], 3)
>>> data = FitData("hypothesis", y=np.log(N) + 2 * np.log(D), features={"N": N, "D": D})
>>> est = estimate(data)
>>> round(est.parameters["N"], 6), round(est.parameters["D"], 6)
(1.0, 2.0)
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from compressbench.core.errors import ConfigError
from compressbench.scaling._blas import single_threaded_blas
from compressbench.scaling.laws import FORMS

Array = NDArray[np.float64]

HUBER_DELTA = 1e-3
# Approach 3's start grid, in the optimiser's order (a, b, e, alpha, beta).
GRID_AXES: dict[str, tuple[float, ...]] = {
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
}
# Kaplan's starts, order (alpha_D, alpha_N/alpha_D, ln N_c, ln D_c).
KAPLAN_AXES: dict[str, tuple[float, ...]] = {
    "alpha_D": (0.05, 0.1, 0.2, 0.4),
    "ratio": (0.25, 0.5, 1.0, 2.0),
    "ln_N_c": (15.0, 20.0, 25.0, 30.0, 35.0),
    "ln_D_c": (15.0, 20.0, 25.0, 30.0, 35.0),
}
_KAPLAN_BOUNDS = [(1e-4, 10.0), (1e-3, 100.0), (None, None), (None, None)]
REFIT_OPTIONS = {"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000}  # refits from a warm start (module docstring)


class FitError(ConfigError):
    """The data cannot determine the fit (rank-deficient, or no start converged)."""


@dataclass(frozen=True)
class FitData:
    """The target and the features of one fit, already checked (finite; positive where logged).

    ``features`` holds ``N``/``D`` (chinchilla, kaplan), ``C`` (loglinear) or one
    array per log term keyed by its column name (hypothesis), in the fit's order.
    """

    form: str
    y: Array
    features: dict[str, Array]

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    def subset(self, rows: NDArray[np.intp] | NDArray[np.bool_]) -> "FitData":
        return FitData(self.form, self.y[rows], {k: v[rows] for k, v in self.features.items()})


@dataclass
class Estimate:
    """One fitted law: its parameters and how the optimiser got there."""

    form: str
    parameters: dict[str, float]
    objective: float  # sum of squares (least squares) or summed Huber loss
    x: Array | None = None  # optimum in the optimiser's parametrisation
    start: Array | None = None  # the winning start
    starts: int = 1
    warnings: list[str] = field(default_factory=list)


def approach3_grid() -> Array:
    """The 4500 starts of Approach 3, one row (a, b, e, alpha, beta) each."""
    return np.array(list(itertools.product(*GRID_AXES.values())), dtype=np.float64)


def kaplan_grid() -> Array:
    """The starts of the Kaplan fit, one row (alpha_D, alpha_N/alpha_D, ln N_c, ln D_c) each."""
    return np.array(list(itertools.product(*KAPLAN_AXES.values())), dtype=np.float64)


def huber_lse_objective(x: Array, lN: Array, lD: Array, lL: Array, delta: float = HUBER_DELTA
                        ) -> tuple[float, Array]:
    """Σ Huber_δ(LSE(a − α lN, b − β lD, e) − lL) and its gradient in (a, b, e, α, β)."""
    a, b, e, alpha, beta = x
    u1 = a - alpha * lN
    u2 = b - beta * lD
    m = np.maximum(np.maximum(u1, u2), e)
    e1, e2, e3 = np.exp(u1 - m), np.exp(u2 - m), np.exp(e - m)
    s = e1 + e2 + e3
    r = m + np.log(s) - lL
    g = np.minimum(np.maximum(r, -delta), delta)  # Huber's derivative
    f = float(g @ (r - 0.5 * g))  # = 0.5 r² inside δ, δ(|r| − δ/2) outside
    gs = g / s
    g1, g2 = gs * e1, gs * e2
    return f, np.array([g1.sum(), g2.sum(), gs @ e3, -(g1 @ lN), -(g2 @ lD)])


def kaplan_objective(x: Array, lN: Array, lD: Array, lL: Array, delta: float = HUBER_DELTA
                     ) -> tuple[float, Array]:
    """Σ Huber_δ(alpha_D · LSE(ratio (ln N_c − lN), ln D_c − lD) − lL) and its gradient."""
    aD, p, cN, cD = x
    v1, v2 = p * (cN - lN), cD - lD
    m = np.maximum(v1, v2)
    e1, e2 = np.exp(v1 - m), np.exp(v2 - m)
    s = e1 + e2
    lse = m + np.log(s)
    r = aD * lse - lL
    g = np.minimum(np.maximum(r, -delta), delta)
    f = float(g @ (r - 0.5 * g))
    w1, w2 = e1 / s, e2 / s
    return f, np.array([g @ lse, aD * (g * w1) @ (cN - lN), aD * p * (g @ w1), aD * (g @ w2)])


def _minimise(objective, starts: Array, args: tuple, bounds=None, options: dict | None = None
              ) -> tuple[Array, float, Array, Array]:
    """L-BFGS-B from every start; the best optimum, its loss, its start, and every final loss."""
    from scipy.optimize import minimize

    finals = np.full(len(starts), np.inf)
    best_x, best_f, best_start = None, np.inf, None
    with single_threaded_blas(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i, x0 in enumerate(starts):
            res = minimize(objective, x0, args=args, jac=True, method="L-BFGS-B", bounds=bounds,
                           options=options)
            if not np.isfinite(res.fun) or not np.all(np.isfinite(res.x)):
                continue
            finals[i] = res.fun
            if res.fun < best_f:
                best_x, best_f, best_start = res.x, float(res.fun), x0
    if best_x is None:
        raise FitError("no start of the optimiser reached a finite loss; check the data's scale and units")
    return best_x, best_f, best_start, finals


def _boundary_warnings(axes: dict[str, tuple[float, ...]], starts: Array, finals: Array, best: float,
                       x: Array) -> list[str]:
    """Warn when only starts on the grid's edge reach the optimum, or the optimum lies outside the grid."""
    if len(starts) < 2:
        return []
    out = []
    lows = np.array([min(v) for v in axes.values()])
    highs = np.array([max(v) for v in axes.values()])
    winners = starts[finals <= best + 1e-6 * max(abs(best), 1e-12)]
    interior = np.all((winners > lows) & (winners < highs), axis=1)
    if winners.size and not interior.any():
        out.append(f"every winning start ({len(winners)} of {len(starts)}) lies on the start grid's boundary; "
                   "a wider grid might find a lower loss")
    outside = [name for name, v, lo, hi in zip(axes, x, lows, highs) if not lo <= v <= hi]
    if outside:
        out.append(f"the optimum lies outside the start grid in {', '.join(outside)}")
    return out


def approach3(N: Array, D: Array, L: Array, *, starts: Array | None = None, delta: float = HUBER_DELTA
              ) -> Estimate:
    """Hoffmann et al.'s Approach 3 (module docstring): the fitted E, A, B, alpha, beta.

    ``starts`` (rows a, b, e, alpha, beta) replaces the grid for a refit, with :data:`REFIT_OPTIONS`.
    """
    grid = approach3_grid() if starts is None else np.atleast_2d(np.asarray(starts, dtype=np.float64))
    args = (np.log(N), np.log(D), np.log(L), delta)
    x, f, start, finals = _minimise(huber_lse_objective, grid, args,
                                    options=None if starts is None else REFIT_OPTIONS)
    a, b, e, alpha, beta = (float(v) for v in x)
    params = {"E": float(np.exp(e)), "A": float(np.exp(a)), "B": float(np.exp(b)), "alpha": alpha, "beta": beta}
    warn = _boundary_warnings(GRID_AXES, grid, finals, f, x) if starts is None else []
    return Estimate("chinchilla", params, f, x=x, start=start, starts=len(grid), warnings=warn)


def fit_kaplan(N: Array, D: Array, L: Array, *, starts: Array | None = None, delta: float = HUBER_DELTA
               ) -> Estimate:
    """Kaplan's form by summed Huber on log loss, L-BFGS-B from a grid of starts (:data:`KAPLAN_AXES`)."""
    grid = kaplan_grid() if starts is None else np.atleast_2d(np.asarray(starts, dtype=np.float64))
    args = (np.log(N), np.log(D), np.log(L), delta)
    x, f, start, finals = _minimise(kaplan_objective, grid, args, bounds=_KAPLAN_BOUNDS,
                                    options=None if starts is None else REFIT_OPTIONS)
    aD, p, cN, cD = (float(v) for v in x)
    params = {"N_c": float(np.exp(cN)), "D_c": float(np.exp(cD)), "alpha_N": p * aD, "alpha_D": aD}
    warn = _boundary_warnings(KAPLAN_AXES, grid, finals, f, x) if starts is None else []
    return Estimate("kaplan", params, f, x=x, start=start, starts=len(grid), warnings=warn)


def least_squares(y: Array, logs: dict[str, Array]) -> tuple[dict[str, float], float]:
    """Ordinary least squares of y on [1, ln x_k]: ({"intercept": …, k: β_k}, sum of squares)."""
    names = list(logs)
    X = np.column_stack([np.ones_like(y)] + [np.log(logs[k]) for k in names])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise FitError(f"the log terms {', '.join(names)} (with the intercept) are collinear over these rows; "
                       "drop a term or add rows where they vary independently")
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    return {"intercept": float(coef[0]), **{k: float(c) for k, c in zip(names, coef[1:])}}, float(resid @ resid)


def estimate(data: FitData, *, starts: Array | None = None) -> Estimate:
    """Fit ``data.form`` to ``data``; ``starts`` makes a saturating form's fit a refit from those starts."""
    if data.form == "hypothesis":
        params, sse = least_squares(data.y, data.features)
        return Estimate("hypothesis", params, sse)
    if data.form == "loglinear":
        params, sse = least_squares(data.y, {"C": data.features["C"]})
        return Estimate("loglinear", {"intercept": params["intercept"], "slope": params["C"]}, sse)
    if data.form == "chinchilla":
        return approach3(data.features["N"], data.features["D"], data.y, starts=starts)
    if data.form == "kaplan":
        return fit_kaplan(data.features["N"], data.features["D"], data.y, starts=starts)
    raise ConfigError(f"unknown form {data.form!r}; known: {', '.join(FORMS)}")


def reuse_starts(est: Estimate) -> Array | None:
    """The start of refits (bootstrap, cross-validation): the full fit's optimum (module docstring)."""
    if est.x is None:
        return None
    return np.atleast_2d(est.x)
