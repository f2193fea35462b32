"""``compressbench compare BASELINE NEW``: what changed, gated; exit 1 on a regression, 2 when not comparable."""

from __future__ import annotations

import argparse
import json
import os
import sys

from compressbench.cli import EXIT_OK, EXIT_USAGE
from compressbench.cli.common import verdict, warn

EXIT_REGRESSION = 1  # as for failed samples in `run`: something got worse, everything was reported

NAME = "compare"
ORDER = 70
HELP = ("compare a new run with a baseline per dataset, tokenizer and language; "
        "exit 1 on a regression beyond a gate, 2 when the runs cannot be compared")
EXAMPLES = [
    "compressbench compare baseline/ compressbench-out/              # terminal table",
    "compressbench compare baseline/summary.json new/ --markdown     # for a pull-request comment",
    "compressbench compare base/ new/ --max-compression-drop 0.5 --max-throughput-drop 20 --json",
    "compressbench compare base/ new/ --allow-tokenizer-change 'hf:*'  # the PR retrains the HF tokenizer",
    "compressbench compare base/ new/ --max-drop input_psnr_db=2 --max-drop fairness_gini=5  # any metric",
]
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def percent(text: str) -> float | None:
    """A gate in percent: '1', '0.5' or '2%' (never negative), or 'off'."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage such as 1 or 0.5% (or off), got {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"a gate must be a percentage >= 0, got {text!r}")
    return value


def max_drop(text: str) -> tuple[str, float]:
    """One --max-drop METRIC=PCT: a metric compare can gate and a percentage, or a one-line error."""
    from compressbench.core.errors import ConfigError
    from compressbench.reports.directions import gate_key, gateable

    metric, sep, pct = text.partition("=")
    if not sep:
        raise ConfigError(f"--max-drop {text!r}: write METRIC=PCT, e.g. --max-drop compression=1 "
                          f"(metrics: {', '.join(gateable())})")
    try:
        value = percent(pct)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"--max-drop {text!r}: {exc}") from None
    if value is None:
        raise ConfigError(f"--max-drop {text!r}: leave the option out to switch a gate off")
    return gate_key(metric.strip()), value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("baseline", metavar="BASELINE", help="baseline run directory or its summary.json")
    p.add_argument("new", metavar="NEW", help="new run directory or its summary.json")
    p.add_argument("--max-compression-drop", type=percent, default=1.0, metavar="PCT",
                   help="fail when C (bytes/token) drops by more than PCT%% of the baseline "
                        "(default: 1; 'off' switches a gate off)")
    p.add_argument("--max-token-increase", type=percent, default=None, metavar="PCT",
                   help="fail when N (tokens) rises by more than PCT%% (default: off)")
    p.add_argument("--max-throughput-drop", type=percent, default=None, metavar="PCT",
                   help="fail when throughput (raw MB/s) drops by more than PCT%% (default: off; machines are noisy)")
    p.add_argument("--max-drop", action="append", default=[], metavar="METRIC=PCT",
                   help="fail when METRIC gets worse (lower where higher is better, higher where lower is) by "
                        "more than PCT%% of the baseline, e.g. input_psnr_db=2 or fairness_gini=5; repeatable; "
                        "for compression, tokens or raw_mb_per_s it replaces --max-compression-drop, "
                        "--max-token-increase or --max-throughput-drop")
    p.add_argument("--allow-tokenizer-change", action="append", default=[], metavar="SPEC",
                   help="compare a tokenizer whose identity hash changed (glob, e.g. 'hf:*'; repeatable)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="Markdown for a pull-request comment, regressions first")
    fmt.add_argument("--json", action="store_true", help="machine-readable JSON")


def _append_step_summary(markdown: str) -> None:
    """Append to the file GITHUB_STEP_SUMMARY names (GitHub Actions shows it on the run's page)."""
    path = os.environ.get(STEP_SUMMARY_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
    except OSError as exc:  # the page's extra copy: a warning, never the comparison's verdict
        warn(f"cannot append the comparison to ${STEP_SUMMARY_ENV} ({path}: {exc.strerror or exc}); "
             "the verdict and the output here are complete")


def run(args: argparse.Namespace) -> int:
    from compressbench.provenance import utc_now
    from compressbench.reports.compare import Gates, Incomparable, compare
    from compressbench.reports.compare_report import (
        render_incomparable_markdown, render_markdown, render_terminal,
    )
    from compressbench.reports.results import run_sample_ids
    from compressbench.reports.summary import read_summary

    baseline, new = read_summary(args.baseline), read_summary(args.new)
    gates = Gates(args.max_compression_drop, args.max_token_increase, args.max_throughput_drop,
                  tuple(dict(max_drop(t) for t in args.max_drop).items()))
    samples = (run_sample_ids(args.baseline), run_sample_ids(args.new))  # read only if some content differs
    now = utc_now()
    try:
        cmp = compare(baseline, new, gates=gates, allow_tokenizer_change=tuple(args.allow_tokenizer_change),
                      baseline_label=args.baseline, new_label=args.new, samples=samples)
    except Incomparable as exc:
        verdict(EXIT_USAGE)
        markdown = render_incomparable_markdown(exc, now=now)
        _append_step_summary(markdown)
        if args.json:
            print(json.dumps(exc.to_dict(), indent=2, ensure_ascii=False))
        elif args.markdown:  # a pull-request comment should say why too
            print(markdown)
        raise  # exit 2 with the reasons on one line
    code = verdict(EXIT_REGRESSION if cmp.regressions else EXIT_OK)  # before any output: `| head` keeps it
    markdown = render_markdown(cmp, now=now)
    _append_step_summary(markdown)
    if args.json:
        print(json.dumps(cmp.to_dict(), indent=2, ensure_ascii=False))
    elif args.markdown:
        print(markdown)
    else:
        print(render_terminal(cmp))
    if cmp.regressions:
        print(f"compressbench: {len(cmp.regressions)} regression(s) beyond the gates:", file=sys.stderr)
        for r in cmp.regressions:
            print(f"  {r.message()}", file=sys.stderr)
    return code
