"""Where results came from: versions, machine, time. Read from package metadata, importing nothing heavy.

>>> "compressbench" in library_versions(["numpy"])
True
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from compressbench._version import __version__

# Libraries whose versions can change a measurement or its timing.
LIBRARIES = ("numpy", "pandas", "tiktoken", "tokenizers", "sentencepiece", "torch", "torchaudio", "timm", "av", "pillow")


def library_versions(names: list[str] | tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed versions (None when a library is absent), compressbench's own first."""
    return {"compressbench": __version__, "python": platform.python_version(), **_versions(tuple(names))}


@cache
def _versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Read once a process: each read parses the package's metadata (about 1 ms a library)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _gpus() -> list[str]:
    """Names of the CUDA devices, when torch is already loaded (never imported just for this)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def machine() -> dict[str, Any]:
    """The machine the run happened on."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory = None
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gib": round(memory, 1) if memory else None,
        "gpus": _gpus(),
        "python_implementation": platform.python_implementation(),
        "argv": sys.argv,
    }


def utc_now() -> str:
    """The current UTC time, ISO 8601 with a Z."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
