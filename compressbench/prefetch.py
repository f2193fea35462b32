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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from contextvars import ContextVar
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
                value, raised = call(), None
            except BaseException as exc:  # raised where the consumer asks for this result
                value, raised = None, exc
            del call  # an idle thread holds no batch
            with self._lock:
                self._idle += 1  # before the result is out: the call its consumer submits next finds this thread
            if raised is None:
                future.set_result(value)
            else:
                future.set_exception(raised)
            del future, value, raised


_threads = _Threads()


_stop: ContextVar[threading.Event | None] = ContextVar("compressbench_stop", default=None)


def stopping() -> bool:
    """Whether the consumer of the call running on this thread has stopped (Ctrl-C, an exception): a long
    call (a streamed text, piece after piece) checks it between steps and ends early; its result is dropped.

    >>> stopping()
    False
    """
    event = _stop.get()
    return event is not None and event.is_set()


def _under(stop: threading.Event, call: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        token = _stop.set(stop)
        try:
            return call()
        finally:
            _stop.reset(token)
    return run


def overlapped(calls: Iterable[Callable[[], T]], ahead: int = 2) -> Iterator[T]:
    """The results of ``calls``, in order, with up to ``ahead`` of them running at once on threads while the
    next one is taken from ``calls`` (its batch read, on the consumer's thread) and the results handed on;
    ``ahead`` 0: each call on the consumer's thread, one after the other.

    A call's exception is raised where its result would have been yielded, after the results before it;
    an exception while taking the next call is raised after the results of the calls already running.
    A consumer that stops early (an exception, Ctrl-C, ``close()``) starts no further call, tells the
    running ones (:func:`stopping`) and waits for them: no call outlives its consumer (a native library
    still encoding when the interpreter exits would abort the process).
    """
    if ahead < 1:
        for call in calls:
            yield call()
        return
    running: deque[Future[T]] = deque()
    stop = threading.Event()
    taken = iter(calls)
    try:
        while True:
            try:
                call = next(taken)
            except StopIteration:
                break
            except BaseException:  # a read failed: what was measured before it still comes out first
                while running:
                    yield _next_result(running)
                raise
            if len(running) < ahead:
                running.append(_threads.submit(_under(stop, call)))
                continue
            oldest = _next_result(running)
            running.append(_threads.submit(_under(stop, call)))  # before handing the oldest on: cores stay busy
            yield oldest
        while running:
            yield _next_result(running)
    finally:
        stop.set()
        _wait_out(running)


def _next_result(running: deque[Future[T]]) -> T:
    """The oldest call's result; it leaves ``running`` only once done (an interrupt meanwhile leaves it there,
    to be waited for)."""
    value = running[0].result()
    running.popleft()
    return value


def _wait_out(running: deque[Future[Any]]) -> None:
    """Wait for the calls still running, whatever their outcome (results no one will read). A Ctrl-C meanwhile
    does not cut the wait short: the calls were told to stop and each is a batch or a group of pieces."""
    while True:
        try:
            futures_wait(list(running))
            return
        except KeyboardInterrupt:
            continue
