"""What every text adapter shares: the payload check and the per-sample text counts.

>>> text_counts("héllo wörld")
{'chars': 11, 'words': 2}
>>> partial_character("é".encode()[:1])
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from compressbench.core.errors import SampleError


def require_text(payload: object) -> str:
    """The payload as ``str``, or a sample error naming what came instead."""
    if not isinstance(payload, str):
        raise SampleError(f"text tokenizer got a {type(payload).__name__} payload, expected decoded text")
    return payload


def text_counts(text: str) -> dict[str, float]:
    """Characters (code points) and whitespace-separated words, for chars/token and fertility."""
    return {"chars": len(text), "words": len(text.split())}


def partial_character(piece: bytes) -> bool:
    """Whether a token's bytes are not whole UTF-8 characters (part of a character, or a stray byte)."""
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def flag_table(size: int, flag: Callable[[int], bool]) -> np.ndarray:
    """A boolean array over token ids, computed once per vocabulary."""
    return np.fromiter((flag(i) for i in range(size)), dtype=bool, count=size)


def count_flagged(ids: Sequence[int] | np.ndarray, table: np.ndarray) -> int:
    """How many of ``ids`` the table flags (ids outside the table count as not flagged)."""
    if not len(ids):
        return 0
    arr = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64, count=len(ids))
    if arr.max() >= len(table):
        arr = arr[arr < len(table)]
    return int(np.count_nonzero(table[arr]))
