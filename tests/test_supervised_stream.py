"""A stream produced in a supervised process: items in order, and a crash, hang or exception of the
producer fails the stream after the items it handed over, never the consumer's process."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from compressbench.parallel import StreamFailed, supervised_stream


def numbers(n: int, then: str) -> Iterator[int]:
    yield from range(n)
    if then == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif then == "hang":
        time.sleep(60)
    elif then == "raise":
        raise ValueError("bad frame\nsecond line")


def test_items_in_order():
    assert list(supervised_stream(numbers, 5, "end", stall_s=30)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("then", "message"), [("crash", r"the process died \(signal 11, SIGSEGV\)"),
                                               ("hang", r"no progress for 1 s"),
                                               ("raise", r"^ValueError: bad frame$")])
def test_a_failing_producer_fails_the_stream_after_its_items(then, message):
    got = []
    with pytest.raises(StreamFailed, match=message):
        for item in supervised_stream(numbers, 3, then, stall_s=1):
            got.append(item)
    # a crash may take with it what the producer had not yet handed over; nothing is out of order
    assert got == [0, 1, 2] if then != "crash" else got == [0, 1, 2][:len(got)]


def test_a_consumer_that_stops_early_ends_the_producer():
    stream = supervised_stream(numbers, 10 ** 9, "end", stall_s=30)
    assert next(stream) == 0
    stream.close()  # kills and reaps the producer (the queue held at most a few items)
