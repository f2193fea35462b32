"""Decoding in worker processes, in order, with bounded read-ahead and a per-sample timeout.

The device stays in the main process; workers only read and decode files. At
most ``window`` samples are in flight, so memory stays flat however large the
corpus. A sample that takes longer than ``timeout`` seconds becomes an error
row; the stuck worker is replaced and the samples behind it are submitted again.

>>> list(ordered_map(abs, [-1, -2, 3], workers=1))
[1, 2, 3]
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _pool(workers: int) -> Pool:
    # spawn: a forked child of a process that has initialised CUDA or threads may deadlock
    return multiprocessing.get_context("spawn").Pool(workers)


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    timeout: float | None = None,
    on_timeout: Callable[[T], R] | None = None,
    window: int | None = None,
) -> Iterator[R]:
    """``map(fn, items)`` over ``workers`` processes, results in input order.

    With ``workers <= 1`` it runs in this process (no timeout is enforced there).
    ``on_timeout(item)`` gives the result for an item that exceeded ``timeout``.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    window = window or 2 * workers
    source = iter(items)
    pool = _pool(workers)
    pending: deque[tuple[T, AsyncResult[Any]]] = deque()
    try:
        while True:
            while len(pending) < window:
                item = next(source, _END)
                if item is _END:
                    break
                pending.append((item, pool.apply_async(fn, (item,))))
            if not pending:
                return
            item, result = pending.popleft()
            try:
                yield result.get(timeout)
            except multiprocessing.TimeoutError:
                if on_timeout is None:
                    raise
                yield on_timeout(item)
                pool.terminate()  # the stuck worker cannot be interrupted: start over with a fresh pool
                pool = _pool(workers)
                pending = deque((i, pool.apply_async(fn, (i,))) for i, _ in pending)
    finally:
        pool.terminate()


_END: Any = object()
