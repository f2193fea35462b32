"""``compressbench report RUN``: a run's results as Markdown, a self-contained HTML page, CSV, JSON or Parquet."""

from __future__ import annotations

import argparse
import sys

from compressbench.cli import EXIT_OK

NAME = "report"
ORDER = 80
HELP = "export a run as md, html (one self-contained file with figures), csv, json or parquet"
EXAMPLES = [
    "compressbench report compressbench-out --format html --out report.html",
    "compressbench report runs/today/summary.json --format csv > summary.csv",
    "compressbench report runs/today --format parquet --out today.parquet",
]
_FORMATS = ("md", "html", "csv", "json", "parquet")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory (from `compressbench run --out`) or its summary.json")
    p.add_argument("--format", choices=_FORMATS, default="md",
                   help="md (default), html, csv (one row per dataset x tokenizer and per language), "
                        "json (summary.json with provenance) or parquet (needs --out)")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args: argparse.Namespace) -> int:
    from compressbench.cli.outdir import check_out_file
    from compressbench.reports.export import export
    from compressbench.reports.results import read_results
    from compressbench.reports.summary import read_summary

    out = check_out_file(args.out, force=args.force) if args.out else None
    summary = read_summary(args.run)
    samples = read_results(args.run) if args.format in ("md", "html") else None  # what only they show
    text = export(summary, samples, args.format, out)
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK
