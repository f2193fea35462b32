"""Where results came from: versions, machine, time. Read from package metadata, importing nothing heavy.

>>> "compressbench" in library_versions(["numpy"])
True
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from compressbench._version import __version__

# Libraries whose versions can change a measurement or its timing.
LIBRARIES = ("numpy", "pandas", "tiktoken", "tokenizers", "sentencepiece", "torch", "torchaudio", "timm", "av", "pillow")


def library_versions(names: list[str] | tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed versions (None when a library is absent), compressbench's own first."""
    out: dict[str, str | None] = {"compressbench": __version__, "python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict[str, Any]:
    """The machine the run happened on."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python_implementation": platform.python_implementation(),
        "argv": sys.argv,
    }


def utc_now() -> str:
    """The current UTC time, ISO 8601 with a Z."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
