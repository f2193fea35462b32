"""``compressbench predict``'s result: each plan's tokens, compute, score and inverse answers, side by side.

>>> rows = [{"dataset": "d", "modality": "text", "tokenizer": "a", "samples": 1, "errors": 0,
...          "raw_bytes": 400, "tokens": 100}, {"dataset": "d", "modality": "text", "tokenizer": "b",
...          "samples": 1, "errors": 0, "raw_bytes": 400, "tokens": 200}]
>>> from compressbench.scaling.plan import Component, Plan
>>> plan = Plan("p", (Component("text", "text", "a", 1.0, "TB"),), params=1e9)
>>> out = predict_plans([plan, plan.with_tokenizer("text", "b")], rows, None, PredictOptions())
>>> out["comparison"][0]["tokens_ratio"], out["comparison"][0]["flops_ratio"]
(2.0, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compressbench.reports.tables import render
from compressbench.scaling.fitfile import LoadedFit
from compressbench.scaling.forecast import FACTOR_RANGE, PlanModel, solve_data, solve_params
from compressbench.scaling.mix import finite, forecast_mix
from compressbench.scaling.plan import Plan

NOTES = [
    "tokens N_i = T_i / C_i with C_i = Σraw_bytes/Σtokens of the summary's rows for that modality × tokenizer; "
    "N's interval is [T_i/C_ci_high, T_i/C_ci_low], the 95% confidence interval of C, where the summary comes "
    "from a sampled run (--sample), else [T_i/C_p90, T_i/C_p10], the spread of per-sample C (10th and 90th "
    "percentiles), which is not a confidence interval; each component says which",
    "score intervals 'from C spread' evaluate the score at the low and high token counts; 'fit 95%' is the "
    "bootstrap percentile band of the fitted law's prediction (parameter uncertainty only)",
]


@dataclass(frozen=True)
class PredictOptions:
    """Command-line overrides and questions."""

    params: float | None = None  # --params: overrides every plan's params
    target_score: float | None = None  # --target-score
    match_params: float | None = None  # --match-params: the bigger model whose score more data should reach


def _component_rows(model: PlanModel, params: float | None) -> list[dict[str, Any]]:
    flops = model.flops(model.mix.tokens(), params) if params else None
    total = sum(flops) if flops else None
    rows = []
    for i, c in enumerate(model.mix.components):
        m = c.measured
        rows.append({
            "name": c.component.name, "modality": c.component.modality, "tokenizer": c.component.tokenizer,
            "datasets": list(m.datasets), "amount": c.component.amount, "unit": c.component.unit,
            "raw_bytes": c.raw_bytes, "compression": m.compression, "compression_p10": m.p10,
            "compression_p90": m.p90, "compression_ci_low": m.ci[0] if m.ci else None,
            "compression_ci_high": m.ci[1] if m.ci else None, "interval": m.interval,
            "tokens": c.tokens, "tokens_low": c.tokens_low, "tokens_high": c.tokens_high,
            "flops": flops[i] if flops else None, "flops_share": flops[i] / total if flops and total else None,
        })
    return rows


def _inverse(model: PlanModel, target: float, params: float | None, what: str) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(model.mix.components):
        factor = solve_data(model, target, params, i) if params else None
        row: dict[str, Any] = {"name": c.component.name, "factor": factor, "unit": c.component.unit}
        if factor is None:
            row["reason"] = ("needs the model size (--params)" if not params
                             else f"changing {c.component.name} alone between {FACTOR_RANGE[0]:g}x and "
                                  f"{FACTOR_RANGE[1]:g}x the planned amount does not reach {what} at this model size")
        else:
            row.update(amount=c.component.amount * factor, extra_amount=c.component.amount * (factor - 1),
                       tokens=c.tokens * factor)
        out.append(row)
    return out


def evaluate_plan(plan: Plan, rows: Sequence[dict[str, Any]], fit: LoadedFit | None, opts: PredictOptions
                  ) -> dict[str, Any]:
    """One plan's forecast (see the module docstring of :mod:`compressbench.scaling.forecast`)."""
    model = PlanModel(forecast_mix(plan, rows), fit)
    P = opts.params if opts.params is not None else plan.params
    toks = {w: model.mix.tokens(w) for w in ("tokens", "tokens_low", "tokens_high")}
    flops = {w: sum(model.flops(t, P)) if P else None for w, t in toks.items()}
    score = model.score(toks["tokens"], P)
    ends = [model.score(toks[w], P) for w in ("tokens_low", "tokens_high")]
    spec = plan.compute
    result: dict[str, Any] = {
        "name": plan.name, "params": P, "components": _component_rows(model, P),
        "tokens": {"value": sum(toks["tokens"]), "low": sum(toks["tokens_low"]), "high": sum(toks["tokens_high"])},
        "compute": {"form": spec.form, "flops": flops["tokens"], "low": flops["tokens_low"],
                    "high": flops["tokens_high"], "llm_factor": spec.llm_factor,
                    "encoder_params": spec.encoder_params if spec.form == "connected-vision" else None,
                    "encoder_factor": spec.encoder_factor if spec.form == "connected-vision" else None,
                    "encoder_modalities": list(spec.encoder_modalities) if spec.form == "connected-vision" else None},
        "score": {"kind": model.kind, "value": finite(score),
                  "interval_from_compression": sorted(ends) if None not in ends else None,  # type: ignore[type-var]
                  "interval_fit": model.fit_interval(toks["tokens"], P)},
    }
    shares: dict[str, float] = {}
    for comp in result["components"]:
        if comp["flops_share"] is not None:
            shares[comp["modality"]] = shares.get(comp["modality"], 0.0) + comp["flops_share"]
    result["compute"]["share_by_modality"] = shares or None
    inverse: dict[str, Any] = {}
    if opts.target_score is not None:
        p_star = solve_params(model, opts.target_score)
        inverse["target_score"] = opts.target_score
        inverse["params_for_target"] = p_star
        inverse["data_for_target"] = _inverse(model, opts.target_score, P, f"score {opts.target_score:g}")
    if opts.match_params is not None:
        target = model.score(toks["tokens"], opts.match_params)
        inverse["match_params"] = opts.match_params
        inverse["score_to_match"] = target
        inverse["data_to_match"] = (_inverse(model, target, P, f"the score of P = {opts.match_params:g}")
                                    if target is not None else [])
    if inverse:
        result["inverse"] = inverse
    return result


def compare(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each plan against the first: token and compute ratios, score difference."""
    base = results[0]
    out = []
    for r in results[1:]:
        ratio = lambda a, b: a / b if a is not None and b else None  # noqa: E731
        s, sb = r["score"]["value"], base["score"]["value"]
        out.append({"plan": r["name"], "baseline": base["name"],
                    "tokens_ratio": ratio(r["tokens"]["value"], base["tokens"]["value"]),
                    "tokens_diff": r["tokens"]["value"] - base["tokens"]["value"],
                    "flops_ratio": ratio(r["compute"]["flops"], base["compute"]["flops"]),
                    "score_diff": s - sb if s is not None and sb is not None else None})
    return out


def predict_plans(plans: Sequence[Plan], rows: Sequence[dict[str, Any]], fit: LoadedFit | None,
                  opts: PredictOptions) -> dict[str, Any]:
    """Every plan evaluated, and the comparison against the first."""
    results = [evaluate_plan(p, rows, fit, opts) for p in plans]
    return {"plans": results, "comparison": compare(results) if len(results) > 1 else [], "notes": NOTES}


def _g(x: float | None, digits: int = 3) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}g}"


def _band(pair: Sequence[float] | None) -> str:
    return "-" if not pair else f"[{_g(pair[0])}, {_g(pair[1])}]"


def render_text(result: dict[str, Any]) -> str:
    """The predict result for a terminal."""
    lines: list[str] = []
    for r in result["plans"]:
        c = r["compute"]
        form = "scratch" if c["form"] == "scratch" else (
            f"connected-vision, encoder {_g(c['encoder_params'])} × {_g(c['encoder_factor'])} on "
            f"{'/'.join(c['encoder_modalities'])}")
        size = "P not given (--params)" if r["params"] is None else f"P = {_g(r['params'])} parameters"
        lines.append(f"plan {r['name']!r}: {size}; compute: {form}, "
                     f"LLM {_g(c['llm_factor'])} FLOPs/param/token")
        cols = [("name", "component"), ("modality", "modality"), ("tokenizer", "tokenizer"), ("amount", "amount"),
                ("raw", "T (bytes)"), ("C", "C (bytes/token)"), ("N", "N (tokens) [interval]"),
                ("interval", "interval of N"), ("flops", "FLOPs"), ("share", "share")]
        body = [{"name": x["name"], "modality": x["modality"], "tokenizer": x["tokenizer"],
                 "amount": f"{_g(x['amount'])} {x['unit']}".strip(), "raw": _g(x["raw_bytes"]),
                 "C": _g(x["compression"]), "N": f"{_g(x['tokens'])} {_band([x['tokens_low'], x['tokens_high']])}", "interval": x["interval"],
                 "flops": _g(x["flops"]), "share": "-" if x["flops_share"] is None else f"{x['flops_share']:.1%}"}
                for x in r["components"]]
        lines += ["  " + line for line in render(body, cols).splitlines()]
        t = r["tokens"]
        lines.append(f"  total: {_g(t['value'])} tokens {_band([t['low'], t['high']])}; "
                     f"{_g(c['flops'])} FLOPs {_band([c['low'], c['high']]) if c['flops'] else ''}".rstrip())
        if c["share_by_modality"]:
            lines.append("  compute share: " + ", ".join(f"{m} {v:.1%}" for m, v in c["share_by_modality"].items()))
        s = r["score"]
        lines.append(f"  {s['kind']}: {_g(s['value'], 4)}  from C spread {_band(s['interval_from_compression'])}"
                     + (f"; fit 95% {_band(s['interval_fit'])}" if s["interval_fit"] else ""))
        inv = r.get("inverse", {})
        if "target_score" in inv:
            lines.append(f"  to reach {_g(inv['target_score'], 4)}: P = {_g(inv['params_for_target'])}"
                         + (" (none between 1e3 and 1e16)" if inv["params_for_target"] is None else ""))
            lines += _render_inverse(inv["data_for_target"], "at this P")
        if "match_params" in inv:
            lines.append(f"  to match P = {_g(inv['match_params'])} (score {_g(inv['score_to_match'], 4)}) "
                         "at this P with more raw data of one component:")
            lines += _render_inverse(inv["data_to_match"], "")
        lines.append("")
    for cmp in result["comparison"]:
        lines.append(f"{cmp['plan']!r} vs {cmp['baseline']!r}: tokens × {_g(cmp['tokens_ratio'])}, "
                     f"compute × {_g(cmp['flops_ratio'])}, score "
                     + ("-" if cmp["score_diff"] is None else f"{cmp['score_diff']:+.3g}"))
    lines += ["", *[f"note: {n}" for n in result["notes"]]]
    return "\n".join(lines).strip() + "\n"


def _render_inverse(rows: list[dict[str, Any]], suffix: str) -> list[str]:
    out = []
    for x in rows:
        if x["factor"] is None:
            out.append(f"    {x['name']}: {x['reason']}")
        else:
            out.append(f"    {x['name']}: × {_g(x['factor'])} = {_g(x['amount'])} {x['unit']} "
                       f"({_g(x['tokens'])} tokens) {suffix}".rstrip())
    return out
