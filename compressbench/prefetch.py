"""Working ahead on threads: the next batches are read and tokenized while this one is handed on.

Text measured in the main process (a dataset's first 32 MiB, or all of it with fewer than 3 workers) is
read, hashed and tallied there: serial Python work, under the GIL. Run between one batch's encode and
the next's it would leave the cores idle; :func:`overlapped` instead keeps the next batch encoding (the
libraries release the GIL while they encode) while this one is tallied, its rows counted and the batch
after it read. At most ``ahead`` calls run at once, so memory stays bounded by the batch.

>>> list(overlapped(iter([lambda: 1, lambda: 2, lambda: 3])))
[1, 2, 3]
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class _Threads:
    """Daemon threads kept for the next calls: a thread started per call would cost a GIL handoff each time,
    and a daemon never keeps the process alive. A thread is added whenever every one is busy, so a call
    that waits on calls of its own (a streamed text's pieces inside a batch) never waits for a free thread."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, call: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                threading.Thread(target=self._serve, name="compressbench-ahead", daemon=True).start()
        self._tasks.put((call, future))
        return future

    def _serve(self) -> None:
        while True:
            call, future = self._tasks.get()
            try:
                future.set_result(call())
            except BaseException as exc:  # raised where the consumer asks for this result
                future.set_exception(exc)
            del call, future  # an idle thread holds no batch
            with self._lock:
                self._idle += 1


_threads = _Threads()


def overlapped(calls: Iterator[Callable[[], T]], ahead: int = 2) -> Iterator[T]:
    """The results of ``calls``, in order, with up to ``ahead`` of them running at once (each on a thread;
    ``ahead`` 1: one after the other, on this thread). A call is taken from ``calls`` here, on the
    consumer's thread, while the calls before it run; its exception is raised where its result would have
    been yielded, after the results before it. A consumer that stops early starts no further call."""
    if ahead <= 1:
        for call in calls:
            yield call()
        return
    running: deque[Future[T]] = deque()
    for call in calls:
        running.append(_threads.submit(call))
        if len(running) >= ahead:
            yield running.popleft().result()
    while running:
        yield running.popleft().result()
