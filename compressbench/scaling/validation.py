"""Goodness of fit, warnings about what the data cannot identify, and held-out validation.

Held-out errors are on the target's own scale: observed − predicted.

>>> import numpy as np
>>> errors(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
{'mae': 0.25, 'rmse': 0.3535533905932738, 'max_error': 0.5, 'n': 2}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from compressbench.core.errors import ConfigError
from compressbench.scaling.fitting import Estimate, FitData, FitError, estimate
from compressbench.scaling.laws import predict

Array = NDArray[np.float64]


def errors(observed: Array, predicted: Array) -> dict[str, float | int]:
    """MAE, RMSE and the largest absolute error over the points, and their count."""
    e = np.asarray(observed, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return {"mae": float(np.mean(np.abs(e))), "rmse": float(np.sqrt(np.mean(e * e))),
            "max_error": float(np.max(np.abs(e))), "n": int(e.size)}


def r2(observed: Array, predicted: Array) -> float | None:
    """Coefficient of determination on the target's scale (None when the target is constant)."""
    ss_tot = float(np.sum((observed - observed.mean()) ** 2))
    if ss_tot == 0:
        return None
    return 1.0 - float(np.sum((observed - predicted) ** 2)) / ss_tot


def fitted(data: FitData, est: Estimate) -> Array:
    """The fit's predictions at the rows of ``data``."""
    return np.asarray(predict(data.form, est.parameters, data.features), dtype=np.float64)


def identifiability_warnings(data: FitData, names: dict[str, str]) -> list[str]:
    """Warnings for variables with too few distinct levels to pin down their coefficient or exponent.

    ``names`` maps each feature key to the column a person would recognise.
    """
    out = []
    for key, values in data.features.items():
        levels = np.unique(values).size
        label = names.get(key, key)
        if data.form in ("chinchilla", "kaplan") and levels < 3:
            out.append(f"{label} has only {levels} distinct value(s): its exponent cannot be identified "
                       "(two levels fit any exponent with a matching coefficient)")
        elif levels == 2:
            out.append(f"{label} has only 2 distinct values: its coefficient rests on one contrast "
                       "and says nothing about the shape in between or beyond")
    return out


def diagnostics(data: FitData, est: Estimate) -> dict:
    """r2, rmse, n and the residuals (observed − predicted, in row order) of a fit."""
    pred = fitted(data, est)
    resid = data.y - pred
    return {"r2": r2(data.y, pred), "rmse": float(np.sqrt(np.mean(resid * resid))), "n": data.n,
            "objective": est.objective, "residuals": [float(r) for r in resid]}


def holdout(data: FitData, held: NDArray[np.bool_], *, expr: str) -> tuple[Estimate, dict]:
    """Fit the rows outside ``held`` and score the predictions on the rows inside."""
    n_held = int(held.sum())
    if n_held == 0:
        raise ConfigError(f"--holdout {expr!r} selects no rows; nothing to validate on")
    if n_held == data.n:
        raise ConfigError(f"--holdout {expr!r} selects every row; nothing is left to fit")
    train, test = data.subset(~held), data.subset(held)
    try:
        est = estimate(train)
    except FitError as exc:
        raise ConfigError(f"--holdout {expr!r}: the remaining {train.n} rows cannot be fitted ({exc})") from None
    pred = fitted(test, est)
    result = {"kind": "holdout", "expr": expr, **errors(test.y, pred), "train_n": train.n,
              "bias": float(np.mean(test.y - pred))}
    return est, result


def cross_validate(data: FitData, groups: Sequence, *, column: str, starts: Array | None) -> dict:
    """Leave-one-group-out: for each value of ``column``, fit the others and predict it."""
    groups = np.asarray(groups)
    levels = list(dict.fromkeys(groups.tolist()))
    if len(levels) < 2:
        raise ConfigError(f"--cv {column!r} has a single value over these rows; need two groups or more")
    observed, predicted, per_group = [], [], []
    for level in levels:
        mask = groups == level
        try:
            est = estimate(data.subset(~mask), starts=starts)
        except FitError as exc:
            raise ConfigError(f"--cv {column!r}: leaving out {level!r}, the other rows cannot be fitted "
                              f"({exc})") from None
        pred = fitted(data.subset(mask), est)
        observed.append(data.y[mask])
        predicted.append(pred)
        per_group.append({"group": _plain(level), **errors(data.y[mask], pred)})
    result = errors(np.concatenate(observed), np.concatenate(predicted))
    return {"kind": "cv", "column": column, **result, "groups": per_group}


def _plain(value):
    return value.item() if hasattr(value, "item") else value
