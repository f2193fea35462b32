"""Optional back-end libraries, imported on first use with an install hint when missing.

Heavy or optional libraries (pyarrow, Ray, PyAV, torch) are imported only by
the code path that needs them; a missing one is a configuration error that
says what to install, never a traceback.

>>> import_backend("json", purpose="reading JSON").__name__
'json'
>>> import_backend("no_such_module_xyz", purpose="this demo", install="pip install xyz")
Traceback (most recent call last):
...
compressbench.core.errors.BackendMissing: this demo needs the Python package 'no_such_module_xyz', which is not installed; pip install xyz
"""

from __future__ import annotations

import importlib
from types import ModuleType

from compressbench.core.errors import BackendMissing

# module -> the pip command that installs it (where the distribution's name differs or an extra brings it)
INSTALL_HINTS: dict[str, str] = {
    "pyarrow": "pip install pyarrow",
    "ray": "pip install 'compressbench[ray]'",
    "av": "pip install av",
    "torch": "pip install torch",
    "torchaudio": "pip install torchaudio",
    "timm": "pip install timm",
    "yaml": "pip install pyyaml",
    "PIL": "pip install pillow",
}


def install_hint(module: str) -> str:
    """The command that installs ``module`` (its top-level package).

    >>> install_hint("ray.data")
    "pip install 'compressbench[ray]'"
    """
    top = module.partition(".")[0]
    return INSTALL_HINTS.get(top, f"pip install {top}")


def missing_backend(module: str, purpose: str, install: str | None = None) -> BackendMissing:
    """The error for a back-end that is not installed (``module`` as Python imports it)."""
    top = module.partition(".")[0]
    return BackendMissing(f"{purpose} needs the Python package {top!r}, which is not installed; "
                          f"{install or install_hint(module)}")


def import_backend(module: str, *, purpose: str, install: str | None = None) -> ModuleType:
    """Import ``module``; when it (or a module it needs) is missing, a :class:`BackendMissing` naming the fix."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise missing_backend(exc.name or module, purpose, install) from None
