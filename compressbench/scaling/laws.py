"""The scaling-law forms compressbench fits and predicts with, as small typed functions.

Four forms, named as on the command line:

- ``hypothesis``: y = intercept + Σ_k β_k ln x_k (Sun & Guo's multimodal hypothesis,
  log-linear, no loss floor). Parameters: ``intercept`` and one coefficient per
  log term, keyed by its column name.
- ``chinchilla``: L = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022).
- ``kaplan``: L = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D (Kaplan et al. 2020).
- ``loglinear``: y = intercept + slope · ln C, C the training compute in FLOPs (a baseline).

N is the model's parameters, D its training tokens, C = 6 N D unless given.

>>> round(float(chinchilla(70e9, 1.4e12, **PUBLISHED["hoffmann2022"])), 3)
1.937
>>> float(hypothesis({"tokens": 1.0, "params": 1.0}, intercept=2.0, coefficients={"tokens": 1, "params": 1}))
2.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def hypothesis(logs: Mapping[str, ArrayLike], *, intercept: float, coefficients: Mapping[str, float]) -> Array:
    """intercept + Σ coefficients[k] · ln(logs[k]) over the coefficients' keys."""
    y = np.asarray(intercept, dtype=np.float64)
    for key, beta in coefficients.items():
        y = y + beta * np.log(np.asarray(logs[key], dtype=np.float64))
    return np.asarray(y, dtype=np.float64)


def chinchilla(N: ArrayLike, D: ArrayLike, *, E: float, A: float, B: float, alpha: float, beta: float) -> Array:
    """Hoffmann et al.'s L(N, D) = E + A/N^alpha + B/D^beta."""
    N, D = np.asarray(N, dtype=np.float64), np.asarray(D, dtype=np.float64)
    return E + A / N**alpha + B / D**beta


def kaplan(N: ArrayLike, D: ArrayLike, *, N_c: float, D_c: float, alpha_N: float, alpha_D: float) -> Array:
    """Kaplan et al.'s L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D."""
    N, D = np.asarray(N, dtype=np.float64), np.asarray(D, dtype=np.float64)
    return ((N_c / N) ** (alpha_N / alpha_D) + D_c / D) ** alpha_D


def loglinear(C: ArrayLike, *, intercept: float, slope: float) -> Array:
    """intercept + slope · ln C: the log-linear baseline in compute."""
    return intercept + slope * np.log(np.asarray(C, dtype=np.float64))


@dataclass(frozen=True)
class Form:
    """What a form needs and yields."""

    name: str
    description: str
    parameters: tuple[str, ...]  # empty for hypothesis: its coefficients follow the columns
    roles: tuple[str, ...]  # the features it reads: "N" params, "D" tokens, "C" FLOPs; () = log terms
    saturating: bool  # has a loss floor; fitted on log loss, so the target must be positive


FORMS: dict[str, Form] = {
    "hypothesis": Form("hypothesis", "y = intercept + Σ β_k ln x_k (least squares)", (), (), False),
    "chinchilla": Form("chinchilla", "L = E + A/N^alpha + B/D^beta (Approach 3)",
                       ("E", "A", "B", "alpha", "beta"), ("N", "D"), True),
    "kaplan": Form("kaplan", "L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D (Huber on log loss)",
                   ("N_c", "D_c", "alpha_N", "alpha_D"), ("N", "D"), True),
    "loglinear": Form("loglinear", "y = intercept + slope · ln C, C = FLOPs (least squares)",
                      ("intercept", "slope"), ("C",), False),
}

# Published fits (docs/science.md section 4). Epoch's is their plain grid search.
PUBLISHED: dict[str, dict[str, float]] = {
    "hoffmann2022": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
    "epoch2024": {"E": 1.817, "A": 482.0, "B": 2085.4, "alpha": 0.348, "beta": 0.366},
    "epoch2024_grid": {"E": 1.817, "A": 477.8, "B": 2143.9, "alpha": 0.3473, "beta": 0.3672},
    "kaplan2020": {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103},
}


def predict(form: str, parameters: Mapping[str, float], features: Mapping[str, ArrayLike]) -> Array:
    """The form's prediction from its parameters and features.

    ``features`` holds ``N`` and ``D`` (chinchilla, kaplan), ``C`` (loglinear), or
    one array per log term keyed by column name (hypothesis).

    >>> float(predict("loglinear", {"intercept": 1.0, "slope": 2.0}, {"C": np.e}))
    3.0
    """
    p = dict(parameters)
    if form == "hypothesis":
        intercept = p.pop("intercept")
        return hypothesis(features, intercept=intercept, coefficients=p)
    if form == "chinchilla":
        return chinchilla(features["N"], features["D"], **p)
    if form == "kaplan":
        return kaplan(features["N"], features["D"], **p)
    if form == "loglinear":
        return loglinear(features["C"], **p)
    raise ValueError(f"unknown form {form!r}; known: {', '.join(FORMS)}")


def derived_quantities(form: str, parameters: Mapping[str, float]) -> dict[str, float]:
    """Quantities derived from a fit that get their own intervals.

    For chinchilla: ``G`` = (alpha·A/(beta·B))^(1/(alpha+beta)) and the exponents of the
    compute-optimal allocation, N_opt ∝ C^params_exponent and D_opt ∝ C^tokens_exponent.

    >>> q = derived_quantities("chinchilla", PUBLISHED["epoch2024"])
    >>> round(q["params_exponent"], 3), round(q["tokens_exponent"], 3)
    (0.513, 0.487)
    """
    if form != "chinchilla":
        return {}
    a, b = parameters["alpha"], parameters["beta"]
    s = a + b
    if not (a > 0 and b > 0):
        return {"G": float("nan"), "params_exponent": float("nan"), "tokens_exponent": float("nan")}
    g = (a * parameters["A"] / (b * parameters["B"])) ** (1 / s)
    return {"G": float(g), "params_exponent": b / s, "tokens_exponent": a / s}
