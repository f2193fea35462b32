"""Options and steps that several sub-commands share."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from compressbench.core.contenthash import HASH_MODES
from compressbench.core.device import DEVICES
from compressbench.core.errors import ErrorMessages
from compressbench.core.ledger import DEFAULT_RENYI_ALPHA
from compressbench.measure import DEFAULT_MAX_FILE_BYTES
from compressbench.core.jsonlines import json_text

if TYPE_CHECKING:
    from compressbench.results import RunResult
    from compressbench.runner import RunOptions


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", metavar="{auto,cpu,cuda}",
                        help=f"where tensor work runs ({', '.join(DEVICES)}; auto = cuda when available). "
                             "Text BPE always runs on the CPU.")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of how samples are read (run and measure); none changes a sample's T or N."""
    add_device(parser)
    parser.add_argument("--batch-size", type=positive_int, default=None, metavar="N",
                        help="samples decoded and tokenized together (default per modality: "
                             "text 128, audio 16, image 32, video 2)")
    parser.add_argument("--count-only", action="store_true",
                        help="read only headers (shape, duration) where the modality allows, and count N "
                             "from them without decoding; text is always tokenized")
    parser.add_argument("--no-fidelity", action="store_true",
                        help="skip input_psnr_db and input_ssim of images and video frames (a resize back and "
                             "an SSIM at the original's size: on the CPU several times the tokenizing); "
                             "input_coverage is still reported")
    parser.add_argument("--no-ledger", action="store_true",
                        help="skip the information ledger of text tokenizers (token-id counts, token_ids.jsonl, "
                             "entropy and efficiency fields, continued words), which costs 0.1 to 1.1 times "
                             "the library's own encode, by tokenizer; N and the other text counts are unchanged")
    parser.add_argument("--hash", choices=HASH_MODES, default="full",
                        help="how each sample's bytes enter the dataset's content hash: full (default, every "
                             "byte), quick (the size and the first and last 64 KiB: with --count-only nothing "
                             "else is read), none (no content hash; compare then cannot prove the data the same)")
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, metavar="N",
                        help="processes that read and decode audio, image and video and, with 3 or more, "
                             "read and tokenize a text dataset past its first 32 MiB (default: the machine's "
                             "cores)")
    parser.add_argument("--timeout", type=positive_float, default=600.0, metavar="SECONDS",
                        help="per-sample limit to read and decode audio, image or video in a worker (default 600)")
    parser.add_argument("--in-process", action="store_true",
                        help="decode media and tokenize text in the main process instead of supervised workers: "
                             "no start-up cost, "
                             "but a decoder that crashes on a hostile file ends the whole run, and --timeout "
                             "is not enforced (unsafe for untrusted data)")
    parser.add_argument("--max-file-bytes", type=positive_int, default=DEFAULT_MAX_FILE_BYTES, metavar="BYTES",
                        help=f"larger files are error rows and are not read (default {DEFAULT_MAX_FILE_BYTES:,})")
    parser.add_argument("--renyi-alpha", type=renyi_alpha, default=DEFAULT_RENYI_ALPHA, metavar="ALPHA",
                        help="the order alpha of the summary's renyi_efficiency, H_alpha / log2 |V| over the token "
                             f"ids of each dataset (default {DEFAULT_RENYI_ALPHA}; 1 gives Shannon's)")


def run_options(args: argparse.Namespace) -> "RunOptions":
    """The RunOptions the command line asked for."""
    from compressbench.runner import RunOptions

    return RunOptions(batch_size=args.batch_size, count_only=args.count_only, workers=args.workers,
                      timeout=args.timeout, max_file_bytes=args.max_file_bytes, in_process=args.in_process,
                      hash=args.hash, renyi_alpha=args.renyi_alpha, fidelity=not args.no_fidelity,
                      ledger=not args.no_ledger)


def _positive_number(text: str, example: str) -> float:
    """A finite number > 0 from ``text``; ``example`` says what was expected."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {example}, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number of seconds > 0."""
    return _positive_number(text, "a number of seconds")


def renyi_alpha(text: str) -> float:
    """argparse type: the order of a Rényi entropy, a finite number > 0."""
    return _positive_number(text, "a number, e.g. 2.5")


def _whole_number(text: str, least: int, bound: str) -> int:
    """A whole number of at least ``least`` from ``text``; ``bound`` says the limit in words."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _whole_number(text, 1, "at least 1")


def seed(text: str) -> int:
    """argparse type: a random seed, a whole number >= 0 (numpy's generators take no negative seed)."""
    return _whole_number(text, 0, "0 or more")


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """An ``OSError`` raised within that names no file (a failed write's or flush's) names ``path``, so that
    the command line's one-line error says where (:func:`compressbench.cli.system_error`)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from None


class ResultsWriter:
    """results.jsonl, one row per line, flushed as rows arrive (nothing is lost if the run dies)."""

    def __init__(self, path: Path, *, append: bool = False, errors: ErrorMessages | None = None) -> None:
        self.path = path
        self.fh: TextIO = path.open("a" if append else "w", encoding="utf-8")
        # unique, in order; a resumed run passes its PriorRows' errors, which are met first
        self.errors = ErrorMessages() if errors is None else errors

    def __call__(self, row: dict[str, Any]) -> None:
        with naming(self.path):  # a full disk
            self.fh.write(json_text(row) + "\n")
            self.fh.flush()
        if row.get("error"):
            self.errors.add(row["error"])

    def close(self) -> None:
        with naming(self.path):
            self.fh.close()


_decided = [0]  # the exit code the running command has decided on (see verdict)


def verdict(code: int) -> int:
    """Record the exit code a command has decided on, before it prints its output, and return it: when the
    reader closes the pipe early (``compare ... | head -1`` in CI) the command still exits with it, not 0.

    >>> verdict(1), decided()
    (1, 1)
    """
    _decided[0] = code
    return code


def decided() -> int:
    """The exit code recorded by :func:`verdict` (0 until a command records one)."""
    return _decided[0]


SUMMARY_FILES = ("summary.json", "summary.csv", "report.md")  # what finish_run writes


def finish_run(out: Path, result: "RunResult", errors: ErrorMessages, staged: dict[Path, Path] | None = None) -> int:
    """Write summary.json/.csv and report.md, print the summary table, and say what failed.

    The three files are written into a hidden folder of ``out`` and moved into place once all are
    complete, after the files ``staged`` (final path -> the complete file written under another name,
    as ``merge`` writes its rows): a failure on the way (a full disk) leaves the folder's earlier files
    as they were, not new rows beside an old summary.

    Returns the exit code: 1 when any sample failed, else 0.
    """
    import shutil
    import tempfile

    from compressbench.reports.markdown import render_report
    from compressbench.reports.summary import build_summary, write_summary
    from compressbench.reports.tables import SUMMARY_COLUMNS, printable, render

    summary = build_summary(result)
    for stale in out.glob(".summary-*"):  # left by a run killed while it wrote its summary
        shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=".summary-", dir=out))
    try:
        write_summary(summary, folder)
        (folder / "report.md").write_text(render_report(summary, errors), encoding="utf-8", errors="backslashreplace")
        for final, part in {**(staged or {}), **{out / f.name: f for f in sorted(folder.iterdir())}}.items():
            part.replace(final)
    except OSError as exc:  # name the file the user knows, not the hidden folder (gone by the time they look)
        if exc.filename and Path(exc.filename).parent == folder:
            exc.filename = str(out / Path(exc.filename).name)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    verdict(1 if result.failed else 0)
    print(render(summary["rows"], SUMMARY_COLUMNS))
    print(f"\nwrote {out}/results.jsonl, summary.json, summary.csv, report.md")
    if not result.failed:
        return 0
    print(f"compressbench: {errors.heading()} sample(s) failed; see {out}/report.md:", file=sys.stderr)
    for message in itertools.islice(errors, 10):
        print(f"  {printable(message)}", file=sys.stderr)
    return 1


def warn(message: str) -> None:
    print(f"compressbench: warning: {message}", file=sys.stderr)
