"""Paths that are URLs: fsspec file systems, with the optional back-ends loaded lazily.

Local paths never come here (they stay plain, fast ``pathlib`` files). A URL
(``memory://``, ``file://``, ``http(s)://``, ``s3://``, ``gs://``, ``hf://`` …) is
opened through fsspec; a back-end that is not installed is a one-line error
with the extra that installs it.

>>> is_url("s3://bucket/shard-000.parquet"), is_url("data/a.txt"), is_url("C:/data/a.txt")
(True, False, False)
>>> fs, path = filesystem("memory://corpus/a.jsonl")
>>> type(fs).__name__, path
('MemoryFileSystem', '/corpus/a.jsonl')
"""

from __future__ import annotations

import re
from typing import Any

from compressbench.core.errors import BackendMissing, ConfigError, first_line

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")

# protocol -> (module fsspec needs, the install that brings it); fsspec's own local,
# memory and zip file systems need nothing.
BACKENDS: dict[str, tuple[str, str]] = {
    "http": ("aiohttp", "pip install aiohttp"),
    "https": ("aiohttp", "pip install aiohttp"),
    "s3": ("s3fs", "pip install 'compressbench[s3]'"),
    "s3a": ("s3fs", "pip install 'compressbench[s3]'"),
    "gs": ("gcsfs", "pip install 'compressbench[gcs]'"),
    "gcs": ("gcsfs", "pip install 'compressbench[gcs]'"),
    "hf": ("huggingface_hub", "pip install 'compressbench[hf]'"),
    "az": ("adlfs", "pip install 'compressbench[azure]'"),
    "abfs": ("adlfs", "pip install 'compressbench[azure]'"),
}


def is_url(path: str) -> bool:
    """Whether ``path`` names a file system by protocol (``PROTO://``); drive letters are not protocols."""
    return bool(_URL.match(path))


def protocol(url: str) -> str:
    """The protocol of a URL, lower-case."""
    match = _URL.match(url)
    return match.group(1).lower() if match else "file"


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path within it.

    A missing back-end is a ``BackendMissing`` error with its install hint; an unknown protocol
    is a ``ConfigError`` naming the known ones.
    """
    import fsspec
    from fsspec.core import url_to_fs

    proto = protocol(url)
    module, hint = BACKENDS.get(proto, ("", ""))
    try:
        return url_to_fs(url)
    except ImportError as exc:
        hint = hint or f"install the fsspec back-end for {proto}://"
        raise BackendMissing(f"{url}: reading {proto}:// needs {module or first_line(exc)}; {hint}") from None
    except ValueError as exc:
        if proto not in fsspec.available_protocols():
            raise ConfigError(f"{url}: unknown protocol {proto!r}; known: file, memory, http, https, "
                              f"{', '.join(sorted(set(BACKENDS) - {'http', 'https'}))}") from None
        raise ConfigError(f"{url}: {first_line(exc)}") from None


def expand(url: str) -> list[str] | None:
    """The file URLs ``url`` names: itself, the files below a folder (recursive), or a glob's matches.

    None when nothing exists there. Hidden files (a name starting with '.') below a folder are skipped.
    A store that cannot be asked (unreachable, no credentials, access denied) is a one-line ``ConfigError``.
    """
    fs, path = filesystem(url)
    try:
        if any(c in path for c in "*?["):
            matches = sorted(fs.glob(path))
            files = [p for m in matches for p in (_below(fs, m) if fs.isdir(m) else [m])]
        elif _is_folder(fs, url, path):
            files = _below(fs, path)
        elif fs.exists(path):
            files = [path]
        else:
            return None
    except FileNotFoundError:
        return None
    except Exception as exc:  # unreached or refused: botocore's errors, unlike aiohttp's, are no OSError
        raise ConfigError(f"{url}: cannot list ({type(exc).__name__}: {first_line(exc)}); check the address, "
                          "the credentials and, for an S3-compatible store, AWS_ENDPOINT_URL") from None
    return [url if p == path else _as_written(url, fs.unstrip_protocol(p)) for p in files] or None


def _as_written(url: str, found: str) -> str:
    """``found`` spelt like ``url`` (``memory://a/b``, not fsspec's ``memory:///a/b``), so ids read as typed."""
    head, _, rest = url.partition("://")
    found_rest = found.partition("://")[2]
    if not rest.startswith("/") and found_rest.startswith("/") and not found_rest.startswith("//"):
        found_rest = found_rest[1:]
    return f"{head}://{found_rest}"


def _is_folder(fs: Any, url: str, path: str) -> bool:
    """Whether ``path`` is a folder. Over HTTP only a URL ending in '/' is (asking would download a file
    to look for links in it)."""
    if protocol(url) in ("http", "https"):
        return url.endswith("/")
    return bool(fs.isdir(path))


def _below(fs: Any, folder: str) -> list[str]:
    """The files below ``folder``, hidden ones (and those in hidden folders) skipped, sorted."""
    return sorted(p for p in fs.find(folder) if not any(part.startswith(".") for part in p[len(folder):].split("/")))
