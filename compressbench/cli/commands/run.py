"""``compressbench run``: measure a suite (default: the fixtures) and write results, summary and report."""

from __future__ import annotations

import argparse
import sys

from compressbench.cli import EXIT_FAILED_SAMPLES, EXIT_OK
from compressbench.cli.common import ResultsWriter, add_batch_size, add_count_only, add_device
from compressbench.cli.outdir import prepare_out_dir

NAME = "run"
ORDER = 10
HELP = "run a benchmark suite (default: the multilingual fixtures) and write results, summary and report"
EXAMPLES = [
    "compressbench run                                 # the default suite over fixtures/",
    "compressbench run my-suite.toml --out runs/today  # your own suite",
    "compressbench run --out runs/x --force            # overwrite a previous run's folder",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("suite", nargs="?", help="suite file (TOML); default: fixtures/suite.toml")
    p.add_argument("--out", default="compressbench-out", help="output directory (default: ./compressbench-out)")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory")
    add_device(p)
    add_batch_size(p)
    add_count_only(p)


def run(args: argparse.Namespace) -> int:
    from compressbench.data.suite import default_suite_path, load_suite
    from compressbench.reports.markdown import render_report
    from compressbench.reports.summary import build_summary, write_summary
    from compressbench.reports.tables import SUMMARY_COLUMNS, render
    from compressbench.runner import build_tokenizers, run_suite

    suite = load_suite(args.suite or default_suite_path())
    tokenizers = build_tokenizers(suite.tokenizers, device=args.device, base=suite.base)
    out = prepare_out_dir(args.out, force=args.force)
    writer = ResultsWriter(out / "results.jsonl")
    try:
        result = run_suite(suite, device=args.device, emit=writer, tokenizers=tokenizers, batch_size=args.batch_size,
                       count_only=args.count_only)
    finally:
        writer.close()
    summary = build_summary(result)
    write_summary(summary, out)
    (out / "report.md").write_text(render_report(summary, list(writer.errors)), encoding="utf-8")
    print(render(summary["rows"], SUMMARY_COLUMNS))
    print(f"\nwrote {out}/results.jsonl, summary.json, summary.csv, report.md")
    if result.failed:
        print(f"compressbench: {len(writer.errors)} sample(s) failed; see {out}/report.md:", file=sys.stderr)
        for message in list(writer.errors)[:10]:
            print(f"  {message}", file=sys.stderr)
        return EXIT_FAILED_SAMPLES
    return EXIT_OK
