"""Turning files, directories (recursively), globs and URLs into an ordered list of source files.

A source is a loose sample file or a container of records (JSONL, Parquet, a
tar shard…: see ``compressbench.data.formats``). A path that does not exist, a
glob that matches nothing, or a directory that holds no file or cannot be read
becomes a failed entry (so the run goes on and reports it) rather than stopping
the run. URLs (``s3://…``, ``memory://…``) are listed through fsspec
(``compressbench.data.remote``).

>>> [e.error for e in discover(["no/such/file.txt"], base=Path("."))]
['no/such/file.txt: no such file or directory']
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from compressbench.data.remote import expand, is_url


@dataclass(frozen=True)
class Found:
    """One source file: local (``path``) or a URL (``url``), or a pattern that found nothing (``error``).

    ``id`` is the path relative to the suite (or as given), or the URL: a loose file's sample id.
    """

    id: str
    path: Path | None
    error: str | None = None
    url: str | None = None

    @cached_property
    def name(self) -> PurePosixPath:
        """The file's path, for labels ({stem}, {parent}) and for telling its format by extension."""
        if self.url is not None:
            return PurePosixPath(self.url.partition("://")[2].split("?")[0])
        if isinstance(self.path, PurePosixPath):  # a local path on POSIX: already one, no second parse
            return self.path
        return PurePosixPath(self.path.as_posix() if self.path else self.id)


def unicode_name(text: str) -> str:
    """``text`` as valid Unicode, one name to one result: a name whose bytes are not UTF-8 (Python holds
    them as surrogates, PEP 383) gets each such byte as a visible ``\\xNN`` escape and any other lone
    surrogate (a JSON escape with no pair) a ``\\uNNNN`` one, and a backslash in a name that needs
    escaping, or in any name at all, is doubled, so that no two names give the same text. Ids and labels
    can then be written to UTF-8 files; the file itself is still opened by its own path.

    >>> unicode_name("caf\\udce9.txt"), unicode_name("café.txt"), unicode_name("\\ud800")
    ('caf\\\\xe9.txt', 'café.txt', '\\\\ud800')
    >>> unicode_name("caf\\\\xe9.txt")  # a real backslash: not the escape above
    'caf\\\\\\\\xe9.txt'
    """
    if "\\" not in text:
        if text.isascii():
            return text
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    text = text.replace("\\", "\\\\")
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte (a JSON "\\ud800")
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _sample_id(path: Path | str, base: Path) -> str:
    """The path relative to ``base`` when it lies below it, POSIX-style; else as absolute.

    >>> _sample_id("/data/a/b.txt", Path("/data")), _sample_id("/other/c.txt", Path("/data/"))
    ('a/b.txt', '/other/c.txt')
    """
    return _relative(os.path.abspath(path), os.path.abspath(base))  # abspath: symlinks keep their own name


def _relative(absolute: str, root: str, *, climb: bool = False) -> str:
    """``absolute`` relative to ``root`` (both absolute) when it lies below it, POSIX-style; else itself, or
    with ``climb`` (the user wrote a relative path, such as ``../data``) relative all the same, so that the
    id is the same wherever the suite and its data are checked out together.

    >>> _relative("/w/data/a.txt", "/w/suite"), _relative("/w/data/a.txt", "/w/suite", climb=True)
    ('/w/data/a.txt', '../data/a.txt')
    """
    prefix = root if root.endswith(os.sep) else root + os.sep
    relative = absolute[len(prefix):] if absolute.startswith(prefix) else "." if absolute == root else absolute
    if climb and relative == absolute:
        try:
            relative = os.path.relpath(absolute, root)
        except ValueError:  # another drive (Windows): no relative path
            pass
    return relative if os.sep == "/" else Path(relative).as_posix()


def _walk(directory: Path) -> tuple[list[str], list[OSError]]:
    """Files below ``directory`` (symlinked folders followed once), hidden files and folders skipped, sorted
    as paths are (folder by folder); and the folders that could not be listed."""
    files: list[str] = []
    visited: set[str] = set()
    errors: list[OSError] = []
    for root, dirs, names in os.walk(directory, followlinks=True, onerror=errors.append):
        real = os.path.realpath(root)
        if real in visited:  # a symlink loop, or a folder reached twice
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [os.path.join(root, n) for n in names if not n.startswith(".")]
    return sorted(files, key=lambda f: f.split(os.sep)), errors


def _folder(pattern: str, directory: Path, base: Path) -> tuple[list[str], list[Found]]:
    """The files below ``directory``, and a failed entry for each folder that could not be read,
    or for ``directory`` itself when it holds no file."""
    files, errors = _walk(directory)
    failed = []
    for error in errors:
        where = pattern if Path(error.filename) == directory else _sample_id(Path(error.filename), base)
        failed.append(Found(where, None, f"{where}: cannot read directory ({error.strerror or error})"))
    if not files and not failed:
        failed.append(Found(pattern, None, f"{pattern}: the directory holds no file (hidden files are skipped)"))
    return files, failed


def discover(patterns: list[str], *, base: Path) -> list[Found]:
    """Expand ``patterns`` (relative ones against ``base``) into sample files, each once, in order."""
    seen: set[str] = set()  # a file named twice (directly and by a glob) is one sample (absolute paths, URLs)
    found: list[Found] = []
    root = os.path.abspath(base)
    for pattern in patterns:
        if is_url(pattern):
            urls = expand(pattern)
            if urls is None:
                found.append(Found(pattern, None, f"{pattern}: no such file, folder or match"))
            for url in urls or []:
                if url not in seen:
                    seen.add(url)
                    found.append(Found(url, None, url=url))
            continue
        full = Path(pattern).expanduser()
        climb = not full.is_absolute()  # written relative to the suite: ids stay relative, ../ included
        if climb:
            full = base / full
        if glob.has_magic(str(full)):
            matches = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
            if not matches:
                found.append(Found(pattern, None, f"{pattern}: the pattern matches no file"))
            paths: list[str | Path] = []
            for match in matches:
                files, failed = _folder(_sample_id(match, base), match, base) if match.is_dir() else ([match], [])
                paths += files
                found += [f for f in failed if f not in found]
        elif full.is_dir():
            paths, failed = _folder(pattern, full, base)
            found += [f for f in failed if f not in found]
        elif full.exists() or full.is_symlink():
            paths = [full]
        else:
            found.append(Found(pattern, None, f"{pattern}: no such file or directory"))
            continue
        for path in paths:
            absolute = os.path.abspath(path)
            if absolute not in seen:
                seen.add(absolute)
                found.append(Found(unicode_name(_relative(absolute, root, climb=climb)), Path(path)))
    return found
