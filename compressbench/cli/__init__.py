"""The ``compressbench`` command: a thin dispatcher over one module per sub-command.

Sub-commands live in :mod:`compressbench.cli.commands`, each a module with
``NAME``, ``HELP``, ``EXAMPLES``, ``add_arguments(parser)`` and ``run(args) -> int``.
Importing them must stay light: ``compressbench --help`` imports no torch.

Exit codes: 0 success; 1 some samples failed (all results still written);
2 usage or configuration error (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import pkgutil
import signal
import sys
import warnings
from types import ModuleType
from typing import NoReturn, TextIO

from compressbench._version import __version__
from compressbench.core.errors import ConfigError

EXIT_OK, EXIT_FAILED_SAMPLES, EXIT_USAGE = 0, 1, 2


def _commands() -> list[ModuleType]:
    from compressbench.cli import commands

    modules = [importlib.import_module(f"{commands.__name__}.{m.name}") for m in pkgutil.iter_modules(commands.__path__)]
    return sorted((m for m in modules if hasattr(m, "NAME")), key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line usage errors the exit codes promise (not the usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command and its examples."""
    commands = _commands()
    examples = "\n".join(f"  {line}" for m in commands for line in m.EXAMPLES[:1])
    parser = _Parser(
        prog="compressbench",
        description="How many tokens will this data cost? Measure raw bytes T, tokens N and C = T/N per tokenizer.",
        epilog=f"examples:\n{examples}\n\nRun `compressbench COMMAND --help` for each command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"compressbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in commands:
        p = sub.add_parser(
            module.NAME, help=module.HELP, description=module.HELP,
            epilog="examples:\n" + "\n".join(f"  {e}" for e in module.EXAMPLES),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Warnings as one line each, like the errors."""
    text = str(message).splitlines()[0] if str(message).strip() else category.__name__
    print(f"compressbench: warning: {text.removeprefix('compressbench: ')}", file=file or sys.stderr)


_WRITES_OUT = {"run", "merge", "report", "fit"}  # the commands with an --out to move elsewhere


def system_error(exc: OSError, command: str) -> str:
    """What a failed read or write of the machine's own (a full disk, a read-only folder) says, and what to
    do next.

    >>> import errno
    >>> system_error(OSError(errno.ENOSPC, "No space left on device", "out/results.jsonl"), "run")
    'out/results.jsonl: No space left on device; free some space or choose another --out (a run continues with --resume)'
    """
    where = f"{exc.filename}: " if exc.filename else ""
    hint = ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        elsewhere = " or choose another --out" if command in _WRITES_OUT else ""
        hint = f"; free some space{elsewhere}" + (" (a run continues with --resume)" if command == "run" else "")
    return f"{where}{exc.strerror or exc}{hint}"


def _drop_stdout() -> None:
    """Point standard output at /dev/null once its reader is gone, so that the buffered rest is not flushed
    at exit (Python would print "Exception ignored ... BrokenPipeError" and exit 120)."""
    import io
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test's captured output)
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    from compressbench.cli.common import decided, verdict

    verdict(EXIT_OK)
    try:
        code = int(args._run(args))
        sys.stdout.flush()  # a reader gone early fails here, inside the handler, not at the interpreter's exit
        return code
    except ConfigError as exc:
        print(f"compressbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as exc:  # an optional back-end that no code path wrapped: still one line and a hint
        from compressbench.core.backends import missing_backend

        print(f"compressbench: error: {missing_backend(exc.name or str(exc), f'compressbench {args.command}')}",
              file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the exit (thread joins)
        print("compressbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `compressbench list | head`: the exit code the command had decided on
        _drop_stdout()
        return decided()
    except OSError as exc:  # the machine's, not the data's (a bad file is its sample's error): one line
        print(f"compressbench: error: {system_error(exc, args.command)}", file=sys.stderr)
        return EXIT_USAGE
