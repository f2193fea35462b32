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
from typing import Any

_SMALL, _LARGE = 2.0 ** -900, 2.0 ** 900  # add_floats scales these exactly (no underflow or overflow)
_CHUNK = (1 << 50) - 1


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

    def add_floats(self, values: Any) -> None:
        """Add a numpy array of floats at once, exactly: each is m × 2^(e−53) with m a 53-bit integer, the
        m sharing an exponent are summed as integers in numpy, and each such sum is added as a few floats
        (a value far from 1, infinite or NaN is added alone).

        >>> import numpy as np
        >>> values = [0.1, 0.2, 1e16, -1e16, 3.0]
        >>> s = ExactSum(); s.add_floats(np.array(values)); s.value == math.fsum(values) == ExactSum.of(values).value
        True
        """
        import numpy as np

        values = np.asarray(values, dtype=np.float64)
        size = np.abs(values)
        usual = (size == 0) | ((size > _SMALL) & (size < _LARGE))  # NaN and infinities are not
        for value in values[~usual].tolist():
            self.add(value)
        mantissas, exponents = np.frexp(values[usual])
        whole = (mantissas * 2.0 ** 53).astype(np.int64)  # exact: a mantissa has 53 bits
        for exponent in np.unique(exponents).tolist():
            same = whole[exponents == exponent]  # high and low halves summed apart: no int64 overflow
            total = (int((same >> 26).sum()) << 26) + int((same & ((1 << 26) - 1)).sum())
            self._add_scaled(total, exponent - 53)

    def _add_scaled(self, total: int, shift: int) -> None:
        """Add total × 2^shift exactly, as floats of at most 50 significant bits each."""
        sign, total = (-1.0 if total < 0 else 1.0), abs(total)
        while total:
            self.add(sign * math.ldexp(float(total & _CHUNK), shift))
            total, shift = total >> 50, shift + 50

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
