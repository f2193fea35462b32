"""Working ahead on threads: results in order, errors where they belong, at most ``ahead`` calls at once."""

from __future__ import annotations

import threading
import time

import pytest

from compressbench.prefetch import overlapped


def test_results_in_order_with_at_most_ahead_calls_running():
    running, most = [0], [0]
    lock = threading.Lock()

    def call(i: int):
        def run() -> int:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.02 * (3 - i % 3))  # later calls finish first: order must not follow finishing
            with lock:
                running[0] -= 1
            return i
        return run

    assert list(overlapped(map(call, range(9)), ahead=3)) == list(range(9))
    assert most[0] == 3


def test_calls_overlap_in_time():
    start = time.perf_counter()
    assert list(overlapped((lambda: time.sleep(0.2)) for _ in range(2))) == [None, None]
    assert time.perf_counter() - start < 0.35  # one after the other they would take 0.4 s


def test_ahead_zero_runs_on_the_consumers_thread():
    names = list(overlapped(iter([lambda: threading.current_thread().name] * 2), ahead=0))
    assert names == [threading.current_thread().name] * 2


def test_ahead_one_takes_the_next_call_while_one_runs():
    log: list[str] = []

    def call(i: int):
        def run() -> int:
            log.append(f"start {i}")
            time.sleep(0.05)
            log.append(f"end {i}")
            return i
        return run

    def calls():
        for i in range(3):
            log.append(f"take {i}")
            yield call(i)

    assert list(overlapped(calls(), ahead=1)) == [0, 1, 2]
    assert log.index("take 1") < log.index("end 0")  # the next batch is read while this one runs
    assert log.index("end 0") < log.index("start 1")  # but never two at once
    assert log.index("end 1") < log.index("start 2")


def test_error_reaches_the_consumer_after_the_results_before_it():
    def fail():
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in overlapped(iter([lambda: 1, lambda: 2, fail, lambda: 4])):
            got.append(item)
    assert got == [1, 2]


def test_a_read_that_fails_comes_after_the_results_already_running():
    def calls():
        yield lambda: 1
        yield lambda: 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in overlapped(calls(), ahead=2):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_starts_no_further_call():
    started = []

    def calls():
        i = 0
        while True:
            started.append(i)
            yield lambda i=i: i
            i += 1

    it = overlapped(calls(), ahead=2)
    assert next(it) == 0
    it.close()
    assert len(started) == 3  # the one yielded and the two running beside it
    time.sleep(0.05)
    assert len(started) == 3


def test_threads_are_daemons_kept_for_the_next_calls():
    def ahead() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "compressbench-ahead"]

    assert list(overlapped(iter([lambda: 1, lambda: 2]))) == [1, 2]
    before = len(ahead())
    for _ in range(20):
        assert list(overlapped(iter([lambda: 1, lambda: 2, lambda: 3]))) == [1, 2, 3]
    assert ahead() and all(t.daemon for t in ahead())
    assert len(ahead()) <= max(before, 2)  # reused, not one per call


def test_calls_that_wait_on_calls_of_their_own_never_starve():
    # as a batch holding a streamed text does: its pieces are counted ahead too, inside the batch's call
    def outer(i: int):
        return lambda: sum(overlapped(iter([lambda: i, lambda: 10 * i, lambda: 100 * i]), ahead=2))

    result: list[int] = []
    worker = threading.Thread(target=lambda: result.extend(overlapped(map(outer, range(6)), ahead=3)), daemon=True)
    worker.start()
    worker.join(10)
    assert result == [111 * i for i in range(6)]
