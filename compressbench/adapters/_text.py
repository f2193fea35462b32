"""What every text adapter shares: the payload check, the per-sample text counts, and counting a batch
over all cores with the library's own parallel call.

>>> text_counts("héllo wörld")
{'chars': 11, 'words': 2}
>>> partial_character("é".encode()[:1])
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from compressbench.core.errors import SampleError
from compressbench.core.sample import TokenCount

Ids = Sequence[int] | np.ndarray


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a container's or SLURM's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_pool: ThreadPoolExecutor | None = None


def thread_map(fn: Callable[[str], Any], texts: Sequence[str]) -> list[Any]:
    """``[fn(t) for t in texts]`` on a pool of :func:`cores` threads, for back-ends that release the GIL
    while they encode (tiktoken's ``encode_ordinary_batch`` does the same)."""
    global _pool
    if len(texts) < 2 or cores() < 2:
        return [fn(t) for t in texts]
    if _pool is None:
        _pool = ThreadPoolExecutor(cores(), thread_name_prefix="compressbench-text")
    return list(_pool.map(fn, texts))


def count_texts(payloads: Sequence[object], encode_batch: Callable[[list[str]], Sequence[Ids]],
                tally: Callable[[str, Ids], TokenCount]) -> list[TokenCount | SampleError]:
    """Count a batch of text payloads: one parallel ``encode_batch`` call over the valid ones, then
    ``tally(text, ids)`` for each; a payload that is not text gets its error in its place."""
    out: list[TokenCount | SampleError] = []
    texts: list[str] = []
    for payload in payloads:
        try:
            texts.append(require_text(payload))
            out.append(TokenCount(0, 0))  # a placeholder, filled below
        except SampleError as exc:
            out.append(exc)
    ids = iter(encode_batch(texts))
    text = iter(texts)
    return [r if isinstance(r, SampleError) else tally(next(text), next(ids)) for r in out]


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
