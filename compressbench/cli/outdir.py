"""The output directory of a run: created if needed, never overwritten without --force.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> prepare_out_dir(d, force=False) == d
True
"""

from __future__ import annotations

from pathlib import Path

from compressbench.core.errors import ConfigError


def prepare_out_dir(path: str | Path, *, force: bool) -> Path:
    """``path`` ready for a run's files; a non-empty folder needs ``force``."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ConfigError(f"{out}: directory is not empty; pass --force to overwrite it or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot create output directory ({exc.strerror})") from None
    return out
