"""``compressbench merge``: join sharded runs into one run directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from compressbench.cli.common import finish_run, warn
from compressbench.cli.outdir import prepare_out_dir
from compressbench.core.errors import ConfigError

NAME = "merge"
ORDER = 25
HELP = "merge the outputs of sharded runs (run --shard K/N) into one run"
EXAMPLES = [
    "compressbench merge runs/s1 runs/s2 runs/s3 runs/s4 --out runs/all",
    "compressbench merge runs/shard-* --out runs/all --force",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories (each with summary.json and results.jsonl)")
    p.add_argument("--out", required=True, help="directory for the merged run")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory")


def run(args: argparse.Namespace) -> int:
    from compressbench.core.jsonlines import json_text
    from compressbench.core.ledger import IDS_FILE
    from compressbench.merge import merge_runs

    if Path(args.out).resolve() in {Path(run).resolve() for run in args.runs}:
        raise ConfigError(f"--out {args.out} is one of the runs being merged (their rows are read while the merged "
                          "ones are written); choose another --out")
    merged = merge_runs(args.runs)
    out = prepare_out_dir(args.out, force=args.force)
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for row in merged.rows():
            fh.write(json_text(row) + "\n")
    with (out / IDS_FILE).open("w", encoding="utf-8") as fh:
        for line in merged.ids():
            fh.write(json_text(line) + "\n")
    for message in merged.warnings:
        warn(message)
    return finish_run(out, merged.result, merged.errors)
