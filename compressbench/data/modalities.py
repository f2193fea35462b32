"""The decoder of each modality, imported lazily so a text run never loads media libraries.

>>> decoder_for("text").__name__
'decode_text'
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

from compressbench.core.errors import ConfigError
from compressbench.data.decoded import Decoded

# modality -> "module:function"; each decoder takes (data: bytes, **options) -> Decoded.
DECODERS: dict[str, str] = {
    "text": "compressbench.data.text:decode_text",
    "audio": "compressbench.data.audio:decode_audio",
    "image": "compressbench.data.image:decode_image",
    "video": "compressbench.data.video:decode_video",
}


# modality -> "module:function" reading only a file's header (shape, duration) for --count-only;
# returns Decoded(payload=None, raw_bytes=T, meta=...). Modalities without one are decoded in full.
PROBES: dict[str, str] = {
    "audio": "compressbench.data.audio:probe_audio",
    "image": "compressbench.data.image:probe_image",
    "video": "compressbench.data.video:probe_video",
}

# Modalities decoded in worker processes (--workers); text is cheaper to decode than to ship.
PARALLEL_DECODE = frozenset({"audio", "image", "video"})

# Samples decoded and tokenized together: small for video, whose decoded clips are large.
BATCH_SIZES: dict[str, int] = {"text": 128, "audio": 16, "image": 32, "video": 2}


# Batches of a modality measured at once, on threads, while the runner reads the next one and counts the
# rows of the last: text's tally of one batch (Python, under the GIL) then overlaps the next one's encode
# (the libraries release the GIL), so no core waits between batches. Media (0) are measured on the runner's
# own thread, one batch after another: their decoding runs ahead in the worker processes, and two batches
# on a GPU would hold twice its memory.
IN_FLIGHT: dict[str, int] = {"text": 2}


def batches_in_flight(modality: str) -> int:
    """How many batches of ``modality`` the runner measures at once (:func:`compressbench.prefetch.overlapped`;
    0: on its own thread).

    >>> batches_in_flight("text"), batches_in_flight("video")
    (2, 0)
    """
    return IN_FLIGHT.get(modality, 0)


def default_batch_size(modality: str) -> int:
    """How many samples of ``modality`` the runner batches by default."""
    return BATCH_SIZES.get(modality, 8)


def modalities() -> list[str]:
    """The modalities compressbench can decode."""
    return list(DECODERS)


@functools.lru_cache(maxsize=None)  # looked up for every sample
def _load(target: str) -> Callable[..., Decoded]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def decoder_for(modality: str) -> Callable[..., Decoded]:
    """The decode function of ``modality``, or an error naming the known ones."""
    if modality not in DECODERS:
        raise ConfigError(f"unknown modality {modality!r}; known: {', '.join(DECODERS)}")
    return _load(DECODERS[modality])


def probe_for(modality: str) -> Callable[..., Decoded] | None:
    """The header-only reader of ``modality`` for --count-only, or None when it must be decoded."""
    return _load(PROBES[modality]) if modality in PROBES else None
