"""Exact, order-free sums of floats, so that merged aggregates equal the whole to the last digit.

Floats are kept as non-overlapping partials (Shewchuk's algorithm, as in
``math.fsum``); integers are summed exactly as Python ints. Any order of adds
and merges gives the same value.

>>> a, b = ExactSum(), ExactSum()
>>> for x in (0.1, 0.2): a.add(x)
>>> b.add(0.3)
>>> a.merge(b).value == ExactSum.of([0.3, 0.2, 0.1]).value == 0.6
True
>>> ExactSum.of([2, 3]).value
5
"""

from __future__ import annotations

import math
from collections.abc import Iterable


class ExactSum:
    """A running sum with no rounding until :attr:`value` is read."""

    __slots__ = ("integer", "partials")

    def __init__(self) -> None:
        self.integer = 0
        self.partials: list[float] = []

    @classmethod
    def of(cls, values: Iterable[float]) -> "ExactSum":
        total = cls()
        for v in values:
            total.add(v)
        return total

    def add(self, x: float) -> None:
        if isinstance(x, int):
            self.integer += x
            return
        partials, i = self.partials, 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]

    def merge(self, other: "ExactSum") -> "ExactSum":
        out = ExactSum()
        out.integer = self.integer + other.integer
        out.partials = list(self.partials)
        for p in other.partials:
            out.add(p)
        return out

    @property
    def value(self) -> float:
        """The sum, rounded once; an int when only ints were added."""
        if not self.partials:
            return self.integer
        return math.fsum([*self.partials, float(self.integer)]) if self.integer else math.fsum(self.partials)
