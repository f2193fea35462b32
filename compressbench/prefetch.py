"""Working ahead on threads: the next batch is read, and the next batches tokenized, while this one is handed on.

Text tokenized in the main process (a dataset's first 32 MiB, or all of it with fewer than 3 workers) is read there,
which is serial Python work. Run between batches it leaves every core but one idle while the files of
the next batch are read; on a thread (:func:`prefetched`) it overlaps the tokenizer's own threads, which
release the GIL while they encode. Likewise a batch's tally and rows (Python, under the GIL) would leave
the cores idle between one batch's encode and the next's: :func:`overlapped` runs the next batch's
measurement while this one finishes. At most ``ahead`` items wait or run, so memory stays bounded by the batch.

>>> list(prefetched(iter(range(5))))
[0, 1, 2, 3, 4]
>>> def broken():
...     yield 1
...     raise ValueError("bad")
>>> it = prefetched(broken())
>>> next(it), next(it, None)
Traceback (most recent call last):
ValueError: bad
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END: Any = object()
_POLL_S = 0.1  # how often a producer waiting on a full queue checks whether the consumer has gone
_JOIN_S = 1.0  # how long a consumer that stops waits for the producer to stop


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[T]:
    """``items`` in order, produced on a thread up to ``ahead`` items before they are asked for.

    An exception of ``items`` is raised here, where the consumer would have met it. A consumer that
    stops early (an exception, Ctrl-C, ``close()``) stops the thread at its next item (it is a daemon:
    it never keeps the process alive).
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Raised(exc))
        else:
            put(_END)

    thread = threading.Thread(target=produce, name="compressbench-prefetch", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(_JOIN_S)  # a producer inside a long read (a huge file's scan) is left to finish alone


class _Call(threading.Thread):
    """One call on a daemon thread (a consumer that stops never waits for it at exit), its outcome kept."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(name="compressbench-ahead", daemon=True)
        self.call, self.value, self.raised = call, None, None
        self.start()

    def run(self) -> None:
        try:
            self.value = self.call()
        except BaseException as exc:  # raised where the consumer asks for this result
            self.raised = exc

    def outcome(self) -> Any:
        self.join()
        if self.raised is not None:
            raise self.raised
        return self.value


def overlapped(calls: Iterator[Callable[[], T]], ahead: int = 2) -> Iterator[T]:
    """The results of ``calls``, in order, with up to ``ahead`` of them running at once (each on a thread;
    ``ahead`` 1: one after the other, on this thread). A call is taken from ``calls`` here, on the
    consumer's thread; its exception is raised where its result would have been yielded.

    >>> list(overlapped(iter([lambda: 1, lambda: 2, lambda: 3])))
    [1, 2, 3]
    """
    if ahead <= 1:
        for call in calls:
            yield call()
        return
    running: deque[_Call] = deque()
    for call in calls:
        running.append(_Call(call))
        if len(running) >= ahead:
            yield running.popleft().outcome()
    while running:
        yield running.popleft().outcome()
