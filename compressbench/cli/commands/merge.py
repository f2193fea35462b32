"""``compressbench merge``: join sharded runs into one run directory."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from compressbench.cli.common import finish_run, naming, warn
from compressbench.cli.outdir import missing_folders, prepare_out_dir, remove_made
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
    plan = merge_runs(args.runs)  # every check that needs no second read, before the output folder is touched
    made = missing_folders(args.out)
    out = prepare_out_dir(args.out, force=args.force)
    files = {out / name: out / f".{name}.merging" for name in ("results.jsonl", IDS_FILE)}  # renamed once complete
    try:
        with naming(out), ExitStack() as stack:  # a full disk: one line naming --out (compressbench.cli)
            rows, ids = (stack.enter_context(part.open("w", encoding="utf-8")) for part in files.values())
            merged = plan.write(emit=lambda row: rows.write(json_text(row) + "\n"),
                                emit_ids=lambda line: ids.write(json_text(line) + "\n"))
            stack.close()  # both files complete
            for message in merged.warnings:
                warn(message)
            return finish_run(out, merged.result, merged.errors, staged=files)  # renames them with the summary
    except BaseException:  # a damaged token_ids.jsonl line, an interrupt, a full disk: --out stays as it was
        remove_made(list(files.values()), made)
        raise
