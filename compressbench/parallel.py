"""Decoding in worker processes, in order, with bounded read-ahead and a per-sample timeout.

The device stays in the main process; workers only read and decode files. At
most ``window`` samples are in flight, so memory stays flat however large the
corpus. A sample that takes longer than ``timeout`` seconds becomes an error
row; the stuck worker is replaced and the samples behind it are submitted again.
One pool serves a whole run (starting processes costs more than decoding a small file).

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
_END: Any = object()


class WorkerPool:
    """A lazily started pool of ``workers`` processes; with one worker, everything runs in this process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Pool | None = None

    def _get(self) -> Pool:
        if self._pool is None:
            # spawn: a forked child of a process that has initialised CUDA or threads may deadlock
            self._pool = multiprocessing.get_context("spawn").Pool(self.workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, timeout: float | None = None,
            on_timeout: Callable[[T], R] | None = None, window: int | None = None) -> Iterator[R]:
        """``map(fn, items)`` over the workers, results in input order.

        ``on_timeout(item)`` gives the result for an item that exceeded ``timeout``
        (not enforced with one worker, where ``fn`` runs in this process).
        """
        if self.workers <= 1:
            yield from map(fn, items)
            return
        window = window or 2 * self.workers
        source = iter(items)
        pending: deque[tuple[T, AsyncResult[Any]]] = deque()
        while True:
            while len(pending) < window:
                item = next(source, _END)
                if item is _END:
                    break
                pending.append((item, self._get().apply_async(fn, (item,))))
            if not pending:
                return
            item, result = pending.popleft()
            try:
                yield result.get(timeout)
            except multiprocessing.TimeoutError:
                if on_timeout is None:
                    raise
                yield on_timeout(item)
                self.close()  # the stuck worker cannot be interrupted: start over with a fresh pool
                pending = deque((i, self._get().apply_async(fn, (i,))) for i, _ in pending)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int, timeout: float | None = None,
                on_timeout: Callable[[T], R] | None = None, window: int | None = None) -> Iterator[R]:
    """One-off :meth:`WorkerPool.map` with a pool of its own."""
    with WorkerPool(workers) as pool:
        yield from pool.map(fn, items, timeout=timeout, on_timeout=on_timeout, window=window)
