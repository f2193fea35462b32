"""``compressbench measure``: ad hoc measurement of files with one or more tokenizers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from compressbench.cli import EXIT_FAILED_SAMPLES, EXIT_OK
from compressbench.cli.common import add_run_options, run_options, verdict

NAME = "measure"
ORDER = 20
HELP = "measure files with one or more tokenizers; a table on stdout, --json for machines"
EXAMPLES = [
    "compressbench measure --tokenizer tiktoken:o200k_base README.md",
    "compressbench measure --tokenizer bytes --tokenizer tiktoken:cl100k_base --json docs/",
    "compressbench measure -t tiktoken:o200k_base 'hf://datasets/HuggingFaceFW/fineweb/sample/10BT/000_00000.parquet'",
    "compressbench measure -t qwen2vl --format webdataset 's3://bucket/laion/0000*.tar'",
]

_COLUMNS = [("sample", "sample"), ("tokenizer", "tokenizer"), ("raw_bytes", "T (bytes)"),
            ("tokens", "N (tokens)"), ("compression", "C (bytes/token)"), ("error", "error")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files, directories (recursive), globs or URLs (s3://, gs://, hf://, https://, memory://)")
    p.add_argument("--tokenizer", "-t", action="append", required=True, metavar="SPEC",
                   help="tokenizer spec, e.g. tiktoken:o200k_base (repeat for several; an option's values "
                        "separated by | give one tokenizer each: qwen2vl:max_pixels=200704|401408)")
    p.add_argument("--encoding", default="utf-8", help="text encoding of the files (default: utf-8)")
    p.add_argument("--format", default="auto", metavar="FORMAT",
                   help="how files hold samples: auto (by extension), files, jsonl, parquet, csv, tsv, webdataset, "
                        "zip, hf (a save_to_disk folder)")
    p.add_argument("--field", default=None, metavar="NAME",
                   help="what a record's sample is: the key or column (text default: text; media: the "
                        "modality's name), or for webdataset the member extensions, ';'-separated")
    p.add_argument("--json", action="store_true", help="print JSON: per-sample results and per-tokenizer summary")
    add_run_options(p)


def run(args: argparse.Namespace) -> int:
    from compressbench.core.errors import ConfigError
    from compressbench.core.registry import get_entry
    from compressbench.core.spec import expand_specs, parse_spec
    from compressbench.data.suite import Dataset, Suite, check_format
    from compressbench.reports.spool import RowSpool, print_json, print_table
    from compressbench.reports.summary import build_summary
    from compressbench.reports.tables import SUMMARY_COLUMNS, render
    from compressbench.runner import run_suite

    specs = tuple(expand_specs(args.tokenizer))  # max_pixels=a|b: one tokenizer per value
    modalities = sorted({get_entry(parse_spec(s).family).cls.modality for s in specs})
    if len(modalities) > 1:
        raise ConfigError(f"measure takes tokenizers of one modality at a time, got {', '.join(modalities)}")
    options = {"encoding": args.encoding} if modalities[0] == "text" else {}
    fmt = check_format(args.format, args.field, "measure")
    dataset = Dataset(name="measure", modality=modalities[0], paths=tuple(args.paths), base=Path.cwd(), options=options,
                      format=fmt, field=args.field)
    suite = Suite(name="measure", datasets=(dataset,), tokenizers=specs, base=Path.cwd())
    rows = RowSpool()  # on disk until printed: memory stays bounded by the batch however many samples
    try:
        result = run_suite(suite, device=args.device, emit=rows.add, options=run_options(args))
        verdict(EXIT_FAILED_SAMPLES if result.failed else EXIT_OK)  # before any output: `| head` keeps it
        summary = build_summary(result)
        if args.json:
            print_json(rows, {"summary": summary["rows"], "tokenizers": summary["tokenizers"],
                              "units": summary["units"]}, sys.stdout)
        else:
            print_table(rows, _COLUMNS, sys.stdout)
            print()
            print(render(summary["rows"], [c for c in SUMMARY_COLUMNS if c[0] not in ("dataset", "modality")]))
    finally:
        rows.close()
    return EXIT_FAILED_SAMPLES if result.failed else EXIT_OK
