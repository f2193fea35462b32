"""``compressbench fit``: fit a scaling law to a CSV of runs; FIT.json, a report and plots."""

from __future__ import annotations

import argparse

from compressbench.cli import EXIT_OK
from compressbench.cli.common import seed

NAME = "fit"
ORDER = 40
HELP = "fit a scaling law (hypothesis, chinchilla, kaplan, loglinear) to a CSV of runs, with bootstrap intervals"
EXAMPLES = [
    "compressbench fit runs.csv --form chinchilla --target loss --params 'Model Size' --flops 'Training FLOP' "
    "--where 'loss < 3.44' --out FIT.json --report fit-report/",
    "compressbench fit fixtures/published/li2024_connected_vision_eval_loss.csv --form hypothesis "
    "--target eval_loss --derive 'visual_tokens = pairs * (image_size // vit_patch) ** 2' "
    "--tokens visual_tokens --params llm_params --log-terms vit_params --holdout 'pairs > 5000000'",
    "compressbench fit runs.csv --form loglinear --target loss --flops flops --cv model --bootstrap 200",
]
FORMS = ("hypothesis", "chinchilla", "kaplan", "loglinear")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA.csv", help="one row per training run")
    p.add_argument("--form", required=True, metavar="{" + ",".join(FORMS) + "}", help="the law to fit")
    p.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict (loss or metric)")
    p.add_argument("--log-terms", metavar="COL,COL…", default="",
                   help="hypothesis: further columns whose logarithms enter the fit (e.g. encoder parameters)")
    p.add_argument("--params", metavar="COLUMN", help="the model's parameters N (hypothesis: a log term)")
    d = p.add_mutually_exclusive_group()
    d.add_argument("--tokens", metavar="COLUMN", help="the training tokens D (hypothesis: a log term)")
    d.add_argument("--flops", metavar="COLUMN", help="training FLOPs: D = FLOPs / (6 N); loglinear: C itself")
    p.add_argument("--derive", action="append", default=[], metavar="'NAME = EXPR'",
                   help="add a column computed from others (pandas eval), before --where; repeatable")
    p.add_argument("--where", metavar="EXPR", help="keep only rows matching this pandas query, e.g. 'loss < 3.7'")
    p.add_argument("--holdout", metavar="EXPR", help="fit the other rows, report errors on these (pandas query)")
    p.add_argument("--cv", metavar="COLUMN", help="leave-one-group-out validation over this column's values")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap resamples over rows for intervals (default 1000; 0: none)")
    p.add_argument("--seed", type=seed, default=0, metavar="S", help="seed of the bootstrap, 0 or more (default 0)")
    p.add_argument("--out", metavar="FIT.json", help="write the fit here")
    p.add_argument("--report", metavar="DIR", help="write report.md and plots (PNG, SVG) here")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file or non-empty --report DIR")


def _terms(text: str) -> tuple[str, ...]:
    from compressbench.core.errors import ConfigError

    if not text.strip():
        return ()
    terms = tuple(t.strip() for t in text.split(","))
    if any(not t for t in terms):
        raise ConfigError(f"--log-terms {text!r}: an empty column name; separate names with commas")
    return terms


def _render(fit: dict) -> str:
    diag = fit["diagnostics"]
    lines = [f"{fit['form']} fit of {fit['columns']['target']} on {diag['n']} rows "
             f"(data sha256 {fit['data_sha256'][:12]}…)"]
    width = max(len(k) for k in fit["parameters"])
    for k, v in fit["parameters"].items():
        iv = fit["intervals"].get(k)
        lines.append(f"  {k:<{width}}  {v:.6g}" + (f"   95% [{iv[0]:.6g}, {iv[1]:.6g}]" if iv else ""))
    for k, v in fit.get("derived", {}).items():
        iv = v["interval"]
        lines.append(f"  {k} (derived)  {v['value']:.6g}" + (f"   95% [{iv[0]:.6g}, {iv[1]:.6g}]" if iv else ""))
    r2 = "-" if diag["r2"] is None else f"{diag['r2']:.4f}"
    lines.append(f"  R² {r2}   RMSE {diag['rmse']:.4g}   n {diag['n']}   "
                 f"bootstrap {diag['bootstrap']['resamples']} (seed {diag['bootstrap']['seed']})")
    lines += [f"  warning: {w}" for w in diag["warnings"]]
    v = fit.get("validation")
    if v:
        what = f"holdout {v['expr']!r}" if v["kind"] == "holdout" else f"leave-one-{v['column']}-out"
        lines.append(f"  validation ({what}): MAE {v['mae']:.4g}  RMSE {v['rmse']:.4g}  "
                     f"max error {v['max_error']:.4g}  n {v['n']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from compressbench.cli.outdir import check_out_dir, check_out_file
    from compressbench.core.errors import ConfigError
    from compressbench.scaling.fitfile import write_fit
    from compressbench.scaling.fitrun import FitRequest, run_fit
    from compressbench.scaling.table import Columns

    if args.form not in FORMS:
        raise ConfigError(f"--form {args.form!r}: unknown form; known: {', '.join(FORMS)}")
    if args.out:  # checked before the fit runs, so a refusal costs nothing
        check_out_file(args.out, force=args.force, makes_folder=True)
    if args.report:
        check_out_dir(args.report, force=args.force, option="--report")
    cols = Columns(target=args.target, params=args.params, tokens=args.tokens, flops=args.flops,
                   log_terms=_terms(args.log_terms))
    req = FitRequest(Path(args.data), args.form, cols, derive=tuple(args.derive), where=args.where,
                     holdout=args.holdout, cv=args.cv, bootstrap=args.bootstrap, seed=args.seed)
    outcome = run_fit(req)
    print(_render(outcome.fit))
    if args.out:
        print(f"wrote {write_fit(outcome.fit, args.out)}")
    if args.report:
        from compressbench.scaling.fitreport import write_report

        paths = write_report(outcome, args.report)
        print(f"wrote {paths[0]} and {len(paths) - 1} plot files")
    return EXIT_OK
