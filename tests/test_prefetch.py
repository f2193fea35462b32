"""Reading ahead on a thread: order, errors and early stops as if read in place, at most one item ahead."""

from __future__ import annotations

import threading
import time

import pytest

from compressbench.prefetch import prefetched


def test_order_and_read_ahead_bounded():
    produced: list[int] = []

    def items():
        for i in range(20):
            produced.append(i)
            yield i

    it = prefetched(items(), ahead=1)
    assert next(it) == 0
    time.sleep(0.2)  # the producer may run ahead, but only by the queue's one item plus the one it holds
    assert len(produced) <= 3
    assert list(it) == list(range(1, 20))


def test_error_reaches_the_consumer_after_the_items_before_it():
    def items():
        yield from (1, 2)
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_stops_the_thread():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    it = prefetched(endless())
    assert next(it) == 0
    it.close()
    assert threading.active_count() == before
    assert not [t for t in threading.enumerate() if t.name == "compressbench-prefetch"]
