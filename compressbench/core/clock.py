"""Timing calls that run at the same time without counting their common time twice.

>>> clock = SharedClock()
>>> with clock.timing() as seconds:
...     pass
>>> seconds[0] >= 0
True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class SharedClock:
    """Wall time shared among the calls it times at once: while n of them run together each is charged 1/n
    of that time, so their seconds add up to the wall time spent, as when they ran one after another (two
    text batches measured at once do not count their common time twice).

    >>> clock = SharedClock(); first = clock.start(); second = clock.start()
    >>> a = clock.stop(first); b = clock.stop(second); a >= 0 and b >= 0
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._charged: dict[int, float] = {}  # the calls running, and the seconds charged to each so far
        self._last = time.perf_counter()
        self._started = 0

    def _advance(self) -> None:
        now = time.perf_counter()
        if self._charged:
            share = (now - self._last) / len(self._charged)
            for token in self._charged:
                self._charged[token] += share
        self._last = now

    def start(self) -> int:
        with self._lock:
            self._advance()
            self._started += 1
            self._charged[self._started] = 0.0
            return self._started

    def stop(self, token: int) -> float:
        with self._lock:
            self._advance()
            return self._charged.pop(token)

    @contextmanager
    def timing(self) -> Iterator[list[float]]:
        """``with clock.timing() as seconds:`` … ``seconds[0]`` is the block's share (an exception stops it too)."""
        token, seconds = self.start(), [0.0]
        try:
            yield seconds
        finally:
            seconds[0] = self.stop(token)
