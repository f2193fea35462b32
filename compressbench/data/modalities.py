"""The decoder of each modality, imported lazily so a text run never loads media libraries.

>>> decoder_for("text").__name__
'decode_text'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from compressbench.core.errors import ConfigError
from compressbench.data.decoded import Decoded

# modality -> "module:function"; each decoder takes (data: bytes, **options) -> Decoded.
DECODERS: dict[str, str] = {
    "text": "compressbench.data.text:decode_text",
    "audio": "compressbench.data.audio:decode_audio",
}


def modalities() -> list[str]:
    """The modalities compressbench can decode."""
    return list(DECODERS)


def decoder_for(modality: str) -> Callable[..., Decoded]:
    """The decode function of ``modality``, or an error naming the known ones."""
    if modality not in DECODERS:
        raise ConfigError(f"unknown modality {modality!r}; known: {', '.join(DECODERS)}")
    module, _, name = DECODERS[modality].partition(":")
    return getattr(importlib.import_module(module), name)
