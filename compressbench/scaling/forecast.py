"""Scores and predictions for a forecast mix, the inverse questions, and what-if comparisons.

Without a fit the score is the hypothesis as stated, α + Σ_i β_i ln N_i + γ ln P with
α = 0, β_i = γ = 1: unitless, higher is better. With a FIT.json it is the fitted
law's prediction of its target (a loss: lower is better):

- hypothesis fits: each log term is matched to the plan by name: the fit's
  ``params`` column takes P; a term named like a component, its modality, or
  ``<modality>_tokens`` / ``tokens_<modality>`` takes those tokens; the fit's
  ``tokens`` column takes the tokens of every component not matched otherwise;
  any other term takes its value from the plan's ``[terms]`` table.
- chinchilla and kaplan: N = P and D = Σ_i N_i.
- loglinear: C = the plan's training compute.

Inverse questions are solved by bracketing on a log scale (brentq), so they work
for every form: the P that reaches a target score, and for a fixed P the factor
on one component's raw amount that reaches it (e.g. the score of a bigger model).

>>> from compressbench.scaling.plan import Component, Plan
>>> from compressbench.scaling.mix import forecast_mix
>>> rows = [{"dataset": "d", "modality": "text", "tokenizer": "t", "samples": 1, "errors": 0,
...          "raw_bytes": 400, "tokens": 100}]
>>> model = PlanModel(forecast_mix(Plan("p", (Component("text", "text", "t", 4e12, "bytes"),)), rows), None)
>>> round(model.score(model.mix.tokens(), 1e9), 3)  # ln(1e12) + ln(1e9)
48.354
>>> round(solve_data(model, model.score(model.mix.tokens(), 1e10), 1e9, 0), 6)  # 10x the model = 10x the data
10.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from compressbench.core.errors import ConfigError
from compressbench.scaling.fitfile import LoadedFit
from compressbench.scaling.mix import MixForecast, component_flops

P_RANGE = (1e3, 1e16)  # model sizes searched by the inverse question
FACTOR_RANGE = (1e-6, 1e12)  # factors on one component's raw amount searched


class PlanModel:
    """A forecast mix and the law that scores it (None: the unitless hypothesis score)."""

    def __init__(self, mix: MixForecast, fit: LoadedFit | None) -> None:
        self.mix = mix
        self.fit = fit
        self._terms = self._map_terms(fit) if fit is not None and fit.form == "hypothesis" else None

    @property
    def kind(self) -> str:
        if self.fit is None:
            return "hypothesis score (unitless, higher is better): Σ ln N_i + ln P"
        return f"predicted {self.fit.target} ({self.fit.form} fit {self.fit.path.name})"

    def flops(self, tokens: Sequence[float], params: float) -> list[float]:
        comps = [(c.component.modality, n) for c, n in zip(self.mix.components, tokens)]
        return component_flops(self.mix.plan.compute, params, comps)

    def _map_terms(self, fit: LoadedFit) -> list[tuple[str, str, list[int] | float | None]]:
        """(term, role, components or value) for each log term of a hypothesis fit."""
        cols = fit.columns
        terms = cols.get("terms") or [k for k in fit.parameters if k != "intercept"]
        comps = [c.component for c in self.mix.components]
        used: set[int] = set()
        out: list[tuple[str, str, list[int] | float | None]] = []
        deferred = None
        for term in terms:
            if term == cols.get("params"):
                out.append((term, "params", None))
                continue
            idx = [i for i, c in enumerate(comps) if term in (c.name, c.modality, f"{c.modality}_tokens",
                                                               f"tokens_{c.modality}")]
            if idx:
                used.update(idx)
                out.append((term, "tokens", idx))
            elif term in self.mix.plan.terms:
                out.append((term, "value", self.mix.plan.terms[term]))
            elif term == (cols.get("tokens") or "tokens"):
                deferred = term
                out.append((term, "tokens", []))
            else:
                raise ConfigError(f"plan {self.mix.plan.name!r}: the fit has a log term {term!r} the plan does not "
                                  f"give; add it under [terms] (e.g. {term} = …) or name a component {term!r}")
        rest = [i for i in range(len(comps)) if i not in used]
        if deferred is not None:
            if not rest:
                raise ConfigError(f"plan {self.mix.plan.name!r}: every component is matched by name, so none is "
                                  f"left for the fit's tokens term {deferred!r}")
            out = [(t, r, rest if t == deferred else v) for t, r, v in out]
        elif rest:
            names = ", ".join(comps[i].name for i in rest)
            raise ConfigError(f"plan {self.mix.plan.name!r}: component(s) {names} match no term of the fit "
                              f"(terms: {', '.join(terms)}); name a component after a term")
        return out

    def features(self, tokens: Sequence[float], params: float | None) -> dict[str, np.ndarray] | None:
        """The fit's features for these tokens and model size; None when the model size is needed but unknown."""
        if self.fit is None:
            return None
        form = self.fit.form
        if form == "hypothesis":
            feats = {}
            for term, role, value in self._terms or []:
                if role == "params":
                    if params is None:
                        return None
                    feats[term] = np.asarray(params, dtype=np.float64)
                elif role == "tokens":
                    feats[term] = np.asarray(sum(tokens[i] for i in value), dtype=np.float64)  # type: ignore[union-attr]
                else:
                    feats[term] = np.asarray(value, dtype=np.float64)
            return feats
        if params is None:
            return None
        if form in ("chinchilla", "kaplan"):
            return {"N": np.asarray(params, dtype=np.float64), "D": np.asarray(sum(tokens), dtype=np.float64)}
        return {"C": np.asarray(sum(self.flops(tokens, params)), dtype=np.float64)}

    def score(self, tokens: Sequence[float], params: float | None) -> float | None:
        """The score (no fit) or the fit's prediction; None when the model size is needed but unknown."""
        if self.fit is None:
            if params is None:
                return None
            return float(sum(math.log(n) for n in tokens) + math.log(params))
        feats = self.features(tokens, params)
        if feats is None:
            return None
        value = float(self.fit.predict(feats))
        return value if math.isfinite(value) else None

    def fit_interval(self, tokens: Sequence[float], params: float | None) -> list[float] | None:
        """The 95% bootstrap band of the prediction; None without a fit, draws or model size."""
        if self.fit is None:
            return None
        feats = self.features(tokens, params)
        draws = None if feats is None else self.fit.predict_draws(feats)
        if draws is None:
            return None
        lo, hi = np.nanpercentile(draws.ravel(), [2.5, 97.5])
        return [float(lo), float(hi)]


def _bracket_root(f, lo: float, hi: float, points: int = 60) -> float | None:
    """A root of f on [lo, hi] (log-space variable), first sign change on a grid, then brentq."""
    from scipy.optimize import brentq

    xs = np.linspace(lo, hi, points)
    vals = [f(x) for x in xs]
    for a, b, fa, fb in zip(xs, xs[1:], vals, vals[1:]):
        if fa is None or fb is None:
            continue
        if fa == 0:
            return float(a)
        if fa * fb < 0:
            return float(brentq(f, a, b, xtol=1e-12))
    return None


def solve_params(model: PlanModel, target: float, tokens: Sequence[float] | None = None) -> float | None:
    """The model size P whose score with the plan's tokens equals ``target`` (None if none in P_RANGE)."""
    tokens = list(tokens if tokens is not None else model.mix.tokens())
    base = model.score(tokens, 1e9)
    if base is None or model.score(tokens, 1e10) == base:
        return None  # the law does not depend on P

    def f(ln_p: float) -> float | None:
        s = model.score(tokens, math.exp(ln_p))
        return None if s is None else s - target

    root = _bracket_root(f, math.log(P_RANGE[0]), math.log(P_RANGE[1]))
    return None if root is None else math.exp(root)


def solve_data(model: PlanModel, target: float, params: float, index: int) -> float | None:
    """The factor on component ``index``'s raw amount that reaches ``target`` at fixed P (None if none)."""
    tokens = list(model.mix.tokens())

    def f(ln_m: float) -> float | None:
        scaled = list(tokens)
        scaled[index] = tokens[index] * math.exp(ln_m)
        s = model.score(scaled, params)
        return None if s is None else s - target

    root = _bracket_root(f, math.log(FACTOR_RANGE[0]), math.log(FACTOR_RANGE[1]), points=90)
    return None if root is None else math.exp(root)
