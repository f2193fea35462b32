"""Compute-optimal allocation for a Chinchilla law under C = 6 N D.

Minimising L(N, D) = E + A/N^alpha + B/D^beta subject to 6 N D = C gives

    G = (alpha A / (beta B))^(1/(alpha+beta)),
    N_opt = G (C/6)^(beta/(alpha+beta)),   D_opt = (C/6)^(alpha/(alpha+beta)) / G.

(alpha is N's exponent, beta D's: N_opt grows with C as beta/(alpha+beta).)
:func:`numerical_optimum` finds the same point by a bounded search along the
constraint; the tests hold the two together.

>>> from compressbench.scaling.laws import PUBLISHED
>>> opt = compute_optimal(PUBLISHED["epoch2024"], 5.76e23)
>>> round(opt.params / 1e9), round(opt.tokens_per_param)
(72, 18)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from compressbench.core.errors import ConfigError
from compressbench.scaling.laws import chinchilla

FLOPS_PER_PARAM_TOKEN = 6.0  # C = 6 N D for training from scratch


@dataclass(frozen=True)
class Allocation:
    """The compute-optimal model size and data for a compute budget."""

    flops: float
    params: float  # N_opt
    tokens: float  # D_opt
    loss: float  # L(N_opt, D_opt)

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params


def compute_optimal(parameters: Mapping[str, float], flops: float) -> Allocation:
    """N_opt, D_opt and the loss there for a Chinchilla law at ``flops`` FLOPs (closed form)."""
    if not (math.isfinite(flops) and flops > 0):
        raise ConfigError(f"--flops {flops!r}: the compute budget must be a positive, finite number of FLOPs")
    E, A, B = parameters["E"], parameters["A"], parameters["B"]
    alpha, beta = parameters["alpha"], parameters["beta"]
    if not (alpha > 0 and beta > 0 and A > 0 and B > 0):
        raise ConfigError(f"no compute-optimal allocation: it needs A, B, alpha, beta > 0 "
                          f"(got A={A:g}, B={B:g}, alpha={alpha:g}, beta={beta:g})")
    s = alpha + beta
    g = (alpha * A / (beta * B)) ** (1 / s)
    budget = flops / FLOPS_PER_PARAM_TOKEN
    n_opt = g * budget ** (beta / s)
    d_opt = budget ** (alpha / s) / g
    loss = float(chinchilla(n_opt, d_opt, E=E, A=A, B=B, alpha=alpha, beta=beta))
    return Allocation(flops=flops, params=n_opt, tokens=d_opt, loss=loss)


def numerical_optimum(parameters: Mapping[str, float], flops: float) -> Allocation:
    """The same optimum by bounded scalar minimisation of L(N, C/(6N)) over ln N (a check)."""
    from scipy.optimize import minimize_scalar

    p = dict(parameters)
    budget = flops / FLOPS_PER_PARAM_TOKEN

    def loss(ln_n: float) -> float:
        n = math.exp(ln_n)
        return float(chinchilla(n, budget / n, **p))

    res = minimize_scalar(loss, bounds=(0.0, math.log(budget)), method="bounded",
                          options={"xatol": 1e-10, "maxiter": 10_000})
    n = math.exp(res.x)
    return Allocation(flops=flops, params=n, tokens=budget / n, loss=float(res.fun))
