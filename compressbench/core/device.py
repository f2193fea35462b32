"""Choosing the device for tensor work, importing torch only when a tokenizer needs it.

>>> resolve_device("cpu")
'cpu'
"""

from __future__ import annotations

from compressbench.core.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def check_device_name(requested: str) -> str:
    """Validate a --device value without importing torch."""
    if requested not in DEVICES and not requested.startswith("cuda:"):
        raise ConfigError(f"unknown device {requested!r}; use one of: auto, cpu, cuda (or cuda:N)")
    return requested


def resolve_device(requested: str) -> str:
    """auto -> cuda when torch sees a GPU, else cpu; cuda without a GPU is an error."""
    check_device_name(requested)
    if requested == "cpu":
        return "cpu"
    import torch  # deferred: text-only runs never get here

    if torch.cuda.is_available():
        return "cuda" if requested == "auto" else requested
    if requested == "auto":
        return "cpu"
    raise ConfigError(f"device {requested!r} requested but torch sees no CUDA GPU here; use --device cpu or auto")
