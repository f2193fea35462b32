"""Loading a tokenizer's definition file: a clear error when it is missing, and its sha256.

>>> sha256_of_file(__file__) == sha256_of_file(__file__)
True
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from compressbench.core.errors import ConfigError


def existing_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path, or a ConfigError naming it and what was expected there."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise ConfigError(f"{path}: no such file; expected {what}")
    return p


def sha256_of_file(path: str | Path) -> str:
    """The file's sha256 (the identity of a tokenizer defined by that file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
