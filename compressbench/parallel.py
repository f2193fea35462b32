"""Decoding in supervised worker processes, in order, with bounded read-ahead and a per-sample timeout.

The device stays in the main process; workers only read and decode files, so a
native decoder that crashes (FFmpeg, an image codec) kills a worker, never the
run. At most ``window`` samples are in flight, so memory stays flat however
large the corpus. The supervisor notices a dead worker at once (the pool
breaks), starts a fresh one and runs the samples that were in flight again one
at a time, so the crash is pinned on the sample that caused it. A sample that
takes longer than ``timeout`` seconds becomes an error row; the stuck worker is
killed and the samples behind it are submitted again. One pool serves a whole
run (starting processes costs more than decoding a small file). Workers ignore
Ctrl-C (the main process stops them) and exit quietly when the main process dies.

>>> list(ordered_map(abs, [-1, -2, 3], workers=1))
[1, 2, 3]
>>> list(ordered_map(abs, [-1, -2, 3], workers=1, in_process=True))  # no worker: a crash ends the caller
[1, 2, 3]
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_END: Any = object()
_PARENT_POLL_S = 0.5  # how often a worker checks that the main process is still there


class WorkerCrashed(RuntimeError):
    """A worker process died while running ``item``; ``exitcode`` as ``Process.exitcode``."""

    def __init__(self, item: object, exitcode: int | None) -> None:
        super().__init__(f"worker process died ({exit_status(exitcode)}) while running {item!r}")
        self.item, self.exitcode = item, exitcode


def exit_status(exitcode: int | None) -> str:
    """How a process ended, in words (``Process.exitcode``: negative for a signal).

    >>> exit_status(-11), exit_status(3), exit_status(None)
    ('signal 11', 'exit code 3', 'an unknown cause')
    """
    if exitcode is None:
        return "an unknown cause"
    return f"signal {-exitcode}" if exitcode < 0 else f"exit code {exitcode}"


def signal_name(exitcode: int | None) -> str | None:
    """The name of the signal a process died of, if it died of one.

    >>> signal_name(-11), signal_name(1)
    ('SIGSEGV', None)
    """
    if exitcode is None or exitcode >= 0:
        return None
    try:
        return signal.Signals(-exitcode).name
    except ValueError:
        return None


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os._exit(0)  # orphaned: nobody reads our results; leave without a traceback


def _worker_init(parent: int) -> None:
    """In each worker: Ctrl-C is the main process's to handle, and the worker dies with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker without its leak warning.

    When the main process is killed, the tracker frees the pool's semaphores, as is its
    job, but also warns about them on the user's terminal; the worker processes are gone
    by then and there is nothing to act on.
    """
    from multiprocessing import resource_tracker

    saved = list(sys.warnoptions)
    sys.warnoptions.append("ignore:resource_tracker:UserWarning")  # passed on to the tracker's interpreter
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions[:] = saved


def _clean(future: Future[Any]) -> bool:
    """Finished, and not by a broken pool or our own cancelling: its result or exception stands."""
    return future.done() and not future.cancelled() and not isinstance(future.exception(0), BrokenProcessPool)


class WorkerPool:
    """A lazily started pool of ``workers`` supervised processes (one worker is still a separate process).

    ``in_process=True`` runs everything in this process instead: no start-up cost, but
    a decoder that crashes ends the caller, and ``timeout`` is not enforced.
    """

    def __init__(self, workers: int, *, in_process: bool = False) -> None:
        self.workers = max(1, workers)
        self.in_process = in_process
        self._pool: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            _quiet_resource_tracker()
            # spawn: a forked child of a process that has initialised CUDA or threads may deadlock
            pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker_init, initargs=(os.getpid(),))
            # start every worker before any item's clock runs: start-up is not decode time
            try:
                for ready in [pool.submit(os.getpid) for _ in range(self.workers)]:
                    ready.result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                raise RuntimeError("worker processes die as they start (a Python script that starts a run "
                                   "must do so under `if __name__ == \"__main__\":`); try --in-process "
                                   "(RunOptions(in_process=True)) to see why") from None
            self._pool = pool
        return self._pool

    def _discard(self, *, kill: bool) -> int | None:
        """Drop the pool (killing its workers when ``kill``); the exit code its first dead worker ended with."""
        pool, self._pool = self._pool, None
        if pool is None:
            return None
        # the executor keeps no record of why a worker died; its process table does
        processes = list((getattr(pool, "_processes", None) or {}).values())
        if kill:
            for p in processes:
                p.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        codes = [p.exitcode for p in processes if p.exitcode]
        # the pool terminates the survivors (SIGTERM) after one dies: prefer any other cause
        return next((c for c in codes if c != -signal.SIGTERM), codes[0] if codes else None)

    def _submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """``fn(item)`` in a worker; a pool that broke since its last check fails the future, not the caller."""
        try:
            return self._get().submit(fn, item)
        except BrokenProcessPool as exc:
            failed: Future[R] = Future()
            failed.set_exception(exc)
            return failed

    def close(self) -> None:
        self._discard(kill=True)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, timeout: float | None = None,
            on_timeout: Callable[[T], R] | None = None, on_crash: Callable[[T, int | None], R] | None = None,
            window: int | None = None) -> Iterator[R]:
        """``map(fn, items)`` over the workers, results in input order.

        ``on_timeout(item)`` gives the result for an item that exceeded ``timeout``;
        ``on_crash(item, exitcode)`` for one whose worker died (``exitcode`` as
        ``Process.exitcode``: -11 for a segmentation fault). Without them, a
        :class:`TimeoutError` or :class:`WorkerCrashed` is raised.
        """
        if self.in_process:
            yield from map(fn, items)
            return
        window = window or 2 * self.workers
        source = iter(items)
        # (item, its future) in input order; None: run it again alone, to learn whether it crashed the pool
        pending: deque[tuple[T, Future[R] | None]] = deque()
        while True:
            while len(pending) < window and all(f is not None for _, f in pending):
                item = next(source, _END)
                if item is _END:
                    break
                pending.append((item, self._submit(fn, item)))
            if not pending:
                return
            item, future = pending.popleft()
            if future is None:
                yield self._alone(fn, item, timeout, on_timeout, on_crash)
                continue
            try:
                result = future.result(timeout)
            except FutureTimeout:
                self._discard(kill=True)  # the stuck worker cannot be interrupted: start over with a fresh pool
                pending = deque((i, f if _clean(f) else self._submit(fn, i)) for i, f in pending)
                yield self._timed_out(item, on_timeout)
            except BrokenProcessPool:
                self._discard(kill=False)
                pending = deque([(item, None), *((i, f if _clean(f) else None) for i, f in pending)])
            else:
                yield result

    def _alone(self, fn: Callable[[T], R], item: T, timeout: float | None,
               on_timeout: Callable[[T], R] | None, on_crash: Callable[[T, int | None], R] | None) -> R:
        """``fn(item)`` with nothing else in flight: a broken pool is this item's doing."""
        future = self._submit(fn, item)
        try:
            return future.result(timeout)
        except FutureTimeout:
            self._discard(kill=True)
            return self._timed_out(item, on_timeout)
        except BrokenProcessPool:
            exitcode = self._discard(kill=False)
            if on_crash is None:
                raise WorkerCrashed(item, exitcode) from None
            return on_crash(item, exitcode)

    @staticmethod
    def _timed_out(item: T, on_timeout: Callable[[T], R] | None) -> R:
        if on_timeout is None:
            raise TimeoutError(f"{item!r} took longer than the timeout")
        return on_timeout(item)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int, timeout: float | None = None,
                on_timeout: Callable[[T], R] | None = None, on_crash: Callable[[T, int | None], R] | None = None,
                window: int | None = None, in_process: bool = False) -> Iterator[R]:
    """One-off :meth:`WorkerPool.map` with a pool of its own."""
    with WorkerPool(workers, in_process=in_process) as pool:
        yield from pool.map(fn, items, timeout=timeout, on_timeout=on_timeout, on_crash=on_crash, window=window)


class StreamFailed(RuntimeError):
    """A :func:`supervised_stream` producer died, stalled or raised; the message says which, in one line."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but not ours to signal
        return True
    return True


def _watch_pid(pid: int) -> None:
    while _alive(pid):
        time.sleep(_PARENT_POLL_S)
    os._exit(0)


def _stream_worker(consumer: int, produce: Callable[..., Iterable[Any]], args: tuple[Any, ...], out: Any) -> None:
    """A producer process: Ctrl-C is the consumer's to handle, and it ends when the consumer is gone
    (its parent is the fork server, so the consumer is watched by pid)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_pid, args=(consumer,), daemon=True).start()
    try:
        for item in produce(*args):
            out.put(("item", item))
    except BaseException as exc:  # the consumer reports it; the process then ends normally
        out.put(("error", f"{type(exc).__name__}: {exc}".splitlines()[0]))
    else:
        out.put(("end", None))


def supervised_stream(produce: Callable[..., Iterable[T]], *args: Any, stall_s: float, ahead: int = 2) -> Iterator[T]:
    """The items of ``produce(*args)``, computed in a separate process and read here in order.

    A native crash of the producer ends its process, not this one; an item that takes longer than
    ``stall_s`` seconds to come kills it. Either, or an exception it raises, is a :class:`StreamFailed`
    here, after the items it handed over (a crash may lose the few it had not). At most ``ahead`` items wait in the queue (memory stays
    bounded), and a consumer that stops early kills the producer. ``produce`` must be importable
    (a module-level function) and its items picklable.
    """
    # forkserver: each producer forks from one clean, single-threaded server process started once
    # (fork from this process could deadlock on its threads; spawn would pay the imports every time)
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([produce.__module__])
    else:  # Windows
        ctx = multiprocessing.get_context("spawn")
    _quiet_resource_tracker()
    out = ctx.Queue(maxsize=ahead)
    proc = ctx.Process(target=_stream_worker, args=(os.getpid(), produce, args, out), daemon=True)
    proc.start()
    try:
        waited = 0.0
        while True:
            try:
                kind, value = out.get(timeout=_PARENT_POLL_S)
            except queue.Empty:
                waited += _PARENT_POLL_S
                if not proc.is_alive():
                    try:  # what it sent just before it ended
                        kind, value = out.get(timeout=_PARENT_POLL_S)
                    except queue.Empty:
                        name = signal_name(proc.exitcode)
                        raise StreamFailed(f"the process died ({exit_status(proc.exitcode)}"
                                           f"{f', {name}' if name else ''})") from None
                elif waited >= stall_s:
                    raise StreamFailed(f"no progress for {stall_s:g} s: stopped") from None
                else:
                    continue
            waited = 0.0
            if kind == "end":
                return
            if kind == "error":
                raise StreamFailed(value)
            yield value
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        out.close()
        out.cancel_join_thread()
