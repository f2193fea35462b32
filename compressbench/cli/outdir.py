"""Where commands write: never over what is there without --force.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> prepare_out_dir(d, force=False) == d
True
>>> (d / "report.md").write_text("mine")
4
>>> check_out_file(d / "report.md", force=False)
Traceback (most recent call last):
...
compressbench.core.errors.ConfigError: ... exists; pass --force to overwrite it or choose another --out
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from compressbench.core.errors import ConfigError


def check_out_dir(path: str | Path, *, force: bool, option: str = "--out") -> Path:
    """``path`` as a folder to write into, checked but not created: a non-empty one needs ``force``. A folder
    holding only hidden files (a merge killed before it renamed its files) says so: ``ls`` shows nothing.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / ".results.jsonl.merging").write_text("")
    >>> check_out_dir(d, force=False)
    Traceback (most recent call last):
    ...
    compressbench.core.errors.ConfigError: ... not empty (it holds only hidden files: .results.jsonl.merging); ...
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a directory; choose another {option}")
    if out.is_dir() and not force:
        entries = sorted(p.name for p in out.iterdir())
        if entries:
            hidden = f" (it holds only hidden files: {', '.join(entries[:3])})" if all(
                n.startswith(".") for n in entries) else ""
            raise ConfigError(f"{out}: directory is not empty{hidden}; pass --force to overwrite it or choose another "
                              f"{option}")
    return out


def prepare_out_dir(path: str | Path, *, force: bool, option: str = "--out") -> Path:
    """``path`` ready for a run's files (created); a non-empty folder needs ``force``."""
    out = check_out_dir(path, force=force, option=option)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot create output directory ({exc.strerror})") from None
    return out


def check_out_file(path: str | Path, *, force: bool, option: str = "--out", makes_folder: bool = False) -> Path:
    """``path`` as a file to write: its folder must exist (unless the writer ``makes_folder``),
    and a file already there needs ``force``."""
    out = Path(path)
    if out.is_dir():
        raise ConfigError(f"{out}: is a directory; give {option} a file name, e.g. {out / 'report.html'}")
    if not makes_folder and not out.parent.is_dir():
        raise ConfigError(f"{out}: folder {out.parent} does not exist; create it or choose another {option}")
    if out.exists() and not force:
        raise ConfigError(f"{out}: exists; pass --force to overwrite it or choose another {option}")
    return out


def missing_folders(path: str | Path) -> list[Path]:
    """The folders of ``path`` (itself included) that do not exist yet, innermost first: what creating it makes."""
    out = Path(path)
    return [f for f in (out, *out.parents) if not f.exists()]


def remove_made(files: list[Path], folders: list[Path]) -> None:
    """Take back what a command that failed early wrote: its ``files``, then the ``folders`` it made (each
    unless something else is in it now), so that the corrected command is not refused as "not empty"."""
    for path in files:
        path.unlink(missing_ok=True)
    for folder in folders:
        with suppress(OSError):
            folder.rmdir()
