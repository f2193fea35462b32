"""Run many tiny optimisations without OpenBLAS's thread pool getting in the way.

scipy's L-BFGS-B does BLAS calls on vectors of length 5; with OpenBLAS's
thread pool active each call costs about ten times its work (measured: 440 µs
against 41 µs an evaluation on two cores). :func:`single_threaded_blas` sets the
loaded OpenBLAS libraries to one thread for the duration of a block and puts the
old count back, like threadpoolctl does. Results do not change, only speed; when
no OpenBLAS is found (another BLAS, another OS) it does nothing.

>>> with single_threaded_blas():
...     pass
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SUFFIXES = ("", "64_", "_")
_PREFIXES = ("scipy_openblas", "openblas")


def _loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux: /proc/self/maps)."""
    maps = Path("/proc/self/maps")
    if not sys.platform.startswith("linux") or not maps.exists():
        return []
    paths = {line.split()[-1] for line in maps.read_text().splitlines() if "openblas" in line.lower()}
    return sorted(p for p in paths if p.startswith("/"))


def _controls(path: str) -> tuple[object, object] | None:
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                return get, put
    return None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Within the block, every loaded OpenBLAS runs on one thread."""
    restore = []
    for path in _loaded_openblas():
        controls = _controls(path)
        if controls is None:
            continue
        get, put = controls
        restore.append((put, int(get())))  # type: ignore[operator]
        put(1)  # type: ignore[operator]
    try:
        yield
    finally:
        for put, count in restore:
            put(count)  # type: ignore[operator]
