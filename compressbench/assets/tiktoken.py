"""Offline, hash-verified tiktoken vocabularies.

tiktoken downloads its vocabularies on first use. compressbench finds them
locally instead, in this order, and accepts a file only when its sha256 is the
official one (``tiktoken_vocabularies.toml``):

1. the file named by the spec option ``vocab=PATH`` (plain or gzipped);
2. tiktoken's own cache (``$TIKTOKEN_CACHE_DIR``, ``$DATA_GYM_CACHE_DIR`` or ``<tmp>/data-gym-cache``);
3. ``$COMPRESSBENCH_VOCAB_DIR/<name>.tiktoken[.gz]``;
4. the gzipped copies shipped in the PyPI package ``bpe-openai`` (cl100k_base, o200k_base).

A verified file is cached atomically (temp file, then rename) under
``$COMPRESSBENCH_CACHE_DIR`` (default ``~/.cache/compressbench``) where
tiktoken's loader finds it, so tiktoken itself builds the encoding and no
network is touched; when that folder cannot be written, the verified file is
used without caching, with a warning. ``download=true`` lets tiktoken fetch a missing file.

>>> official_hash("cl100k_base")[:12]
'223921b76ee9'
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
import threading
import tomllib
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from compressbench.core.errors import ConfigError

if TYPE_CHECKING:
    import tiktoken

_TABLE = Path(__file__).with_name("tiktoken_vocabularies.toml")
_ENV_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, dict[str, str]]:
    """The official vocabulary table: name -> url, sha256, file stem."""
    with _TABLE.open("rb") as fh:
        table = tomllib.load(fh)
    for name, entry in table.items():
        entry.setdefault("file", name)
    return table


def official_hash(name: str) -> str:
    """The sha256 tiktoken pins for encoding ``name``."""
    return vocabularies()[name]["sha256"]


def cache_dir() -> Path:
    """Where compressbench caches verified vocabularies."""
    root = os.environ.get("COMPRESSBENCH_CACHE_DIR") or Path.home() / ".cache" / "compressbench"
    return Path(root) / "tiktoken"


def _tiktoken_cache_file(url: str) -> Path:
    """The path tiktoken's own loader caches ``url`` under."""
    root = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    base = Path(root) if root else Path(tempfile.gettempdir()) / "data-gym-cache"
    return base / hashlib.sha1(url.encode()).hexdigest()


def _bpe_openai_dir() -> Path | None:
    """bpe-openai's data folder, found without importing the package (it loads a large binary)."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def candidates(name: str, explicit: str | None) -> list[Path]:
    """Every place a vocabulary for ``name`` may lie, in the order they are tried."""
    entry = vocabularies()[name]
    stem = entry["file"]
    paths: list[Path] = []
    if explicit:
        return [Path(explicit).expanduser()]
    paths.append(_tiktoken_cache_file(entry["url"]))
    vocab_dir = os.environ.get("COMPRESSBENCH_VOCAB_DIR")
    if vocab_dir:
        paths += [Path(vocab_dir) / f"{stem}.tiktoken", Path(vocab_dir) / f"{stem}.tiktoken.gz"]
    bundled = _bpe_openai_dir()
    if bundled is not None:
        paths.append(bundled / f"{stem}.tiktoken.gz")
    return paths


def read_verified(path: Path, sha256: str) -> bytes | None:
    """The file's contents (gunzipped if gzipped) when its sha256 matches, else None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _tiktoken_cache(directory: Path) -> Iterator[None]:
    """Point tiktoken's loader at ``directory`` for the duration of one construction."""
    with _ENV_LOCK:
        saved = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
        try:
            yield
        finally:
            if saved is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = saved


def _unknown(name: str) -> ConfigError:
    import difflib

    import tiktoken

    known = sorted(set(vocabularies()) | set(tiktoken.list_encoding_names()))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    return ConfigError(f"unknown tiktoken encoding {name!r}{hint} (known: {', '.join(known)})")


def load_encoding(name: str, *, vocab: str | None = None, download: bool = False) -> "tiktoken.Encoding":
    """Build tiktoken's Encoding ``name`` from a verified local vocabulary.

    Raises :class:`ConfigError` saying what to install or which file to point at
    when no verified file is found and ``download`` is false.
    """
    import tiktoken

    if name not in vocabularies():
        if name in tiktoken.list_encoding_names() and download:
            return tiktoken.get_encoding(name)
        if name in tiktoken.list_encoding_names():
            raise ConfigError(
                f"tiktoken encoding {name!r} has no pinned vocabulary in compressbench; "
                f"allow tiktoken to download it with tiktoken:{name},download=true"
            )
        raise _unknown(name)
    entry = vocabularies()[name]
    for path in candidates(name, vocab):
        data = read_verified(path, entry["sha256"])
        if data is not None:
            break
    else:
        if download:
            return tiktoken.get_encoding(name)
        tried = ", ".join(str(p) for p in candidates(name, vocab))
        if vocab:
            raise ConfigError(f"{vocab}: not a {name} vocabulary (missing, unreadable or sha256 is not {entry['sha256']})")
        raise ConfigError(
            f"tiktoken vocabulary {name!r} not found offline (tried: {tried}); "
            f"pip install bpe-openai (ships cl100k_base and o200k_base), put {entry['file']}.tiktoken "
            f"(sha256 {entry['sha256'][:12]}...) in $COMPRESSBENCH_VOCAB_DIR, "
            f"pass tiktoken:{name},vocab=FILE, or allow a download with tiktoken:{name},download=true"
        )
    cached = cache_dir() / hashlib.sha1(entry["url"].encode()).hexdigest()
    try:
        if read_verified(cached, entry["sha256"]) is None:
            _write_atomic(cached, data)
    except OSError as exc:
        warnings.warn(f"cannot cache the {name} vocabulary in {cache_dir()} ({exc.strerror or exc}); using it "
                      "without caching (set COMPRESSBENCH_CACHE_DIR to a writable folder)", stacklevel=2)
        return _uncached(name, cached.name, data)
    with _tiktoken_cache(cache_dir()):
        return tiktoken.get_encoding(name)


def _uncached(name: str, file: str, data: bytes) -> "tiktoken.Encoding":
    """The encoding built from verified ``data`` through a temporary folder, removed afterwards."""
    import tiktoken

    try:
        with tempfile.TemporaryDirectory(prefix="compressbench-vocab-") as tmp:
            _write_atomic(Path(tmp) / file, data)
            with _tiktoken_cache(Path(tmp)):
                return tiktoken.get_encoding(name)
    except OSError as exc:
        raise ConfigError(f"cannot write the {name} vocabulary to a temporary folder either ({exc.strerror or exc}); "
                          "set COMPRESSBENCH_CACHE_DIR or TMPDIR to a writable folder") from None
