"""Options and steps that several sub-commands share."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from compressbench.core.device import DEVICES


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", metavar="{auto,cpu,cuda}",
                        help=f"where tensor work runs ({', '.join(DEVICES)}; auto = cuda when available). "
                             "Text BPE always runs on the CPU.")


def add_batch_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch-size", type=positive_int, default=None, metavar="N",
                        help="samples decoded and tokenized together (default per modality: "
                             "text 64, audio 16, image 32, video 2)")


def add_count_only(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count-only", action="store_true",
                        help="read only headers (shape, duration) where the modality allows, and count N "
                             "from them without decoding; text is always read whole")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class ResultsWriter:
    """results.jsonl, one row per line, flushed as rows arrive (nothing is lost if the run dies)."""

    def __init__(self, path: Path) -> None:
        self.fh: TextIO = path.open("w", encoding="utf-8")
        self.errors: dict[str, None] = {}  # unique messages, in order

    def __call__(self, row: dict[str, Any]) -> None:
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.fh.flush()
        if row.get("error"):
            self.errors.setdefault(row["error"])

    def close(self) -> None:
        self.fh.close()


def warn(message: str) -> None:
    print(f"compressbench: warning: {message}", file=sys.stderr)
