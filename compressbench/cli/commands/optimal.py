"""``compressbench optimal``: the compute-optimal model size and data for a fitted Chinchilla law."""

from __future__ import annotations

import argparse

from compressbench.cli import EXIT_OK

NAME = "optimal"
ORDER = 60
HELP = "compute-optimal parameters and tokens for a FLOP budget, from a chinchilla FIT.json (C = 6 N D)"
EXAMPLES = [
    "compressbench optimal --fit FIT.json --flops 5.76e23",
    "compressbench optimal --fit FIT.json --flops 1e22 --json",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fit", required=True, metavar="FIT.json", help="a chinchilla fit (compressbench fit --out)")
    p.add_argument("--flops", required=True, type=float, metavar="C", help="the training compute budget in FLOPs")
    p.add_argument("--json", action="store_true", help="print JSON: params_opt, tokens_opt, tokens_per_param, flops")


def result(fit_path: str, flops: float) -> dict:
    """The allocation as a dict, with bootstrap intervals when the fit has draws."""
    import numpy as np

    from compressbench.core.errors import ConfigError
    from compressbench.scaling.allocation import compute_optimal
    from compressbench.scaling.fitfile import read_fit

    fit = read_fit(fit_path)
    if fit.form != "chinchilla":
        raise ConfigError(f"{fit_path}: optimal needs a chinchilla fit, this one is {fit.form!r} "
                          "(fit with --form chinchilla)")
    opt = compute_optimal(fit.parameters, flops)
    out = {"params_opt": opt.params, "tokens_opt": opt.tokens, "tokens_per_param": opt.tokens_per_param,
           "flops": flops, "loss_opt": opt.loss, "intervals": None, "fit": str(fit_path)}
    if fit.draws is not None and len(fit.draws.values) >= 2:
        rows = []
        for p in fit.draws.rows():
            if p["alpha"] > 0 and p["beta"] > 0:
                a = compute_optimal(p, flops)
                rows.append((a.params, a.tokens, a.tokens_per_param, a.loss))
        if len(rows) >= 2:
            lo, hi = np.percentile(np.array(rows), [2.5, 97.5], axis=0)
            keys = ("params_opt", "tokens_opt", "tokens_per_param", "loss_opt")
            out["intervals"] = {k: [float(lo[i]), float(hi[i])] for i, k in enumerate(keys)}
    return out


def run(args: argparse.Namespace) -> int:
    import json

    out = result(args.fit, args.flops)
    if args.json:
        print(json.dumps(out, indent=2))
        return EXIT_OK
    iv = out["intervals"] or {}

    def line(label: str, key: str, unit: str) -> str:
        band = f"   95% [{iv[key][0]:.3g}, {iv[key][1]:.3g}]" if key in iv else ""
        return f"  {label:<22}{out[key]:.4g} {unit}{band}"

    print(f"compute budget {out['flops']:.4g} FLOPs (C = 6 N D), chinchilla fit {out['fit']}:")
    print(line("N_opt", "params_opt", "parameters"))
    print(line("D_opt", "tokens_opt", "tokens"))
    print(line("tokens per parameter", "tokens_per_param", ""))
    print(line("loss at the optimum", "loss_opt", ""))
    return EXIT_OK
