"""The spread of per-sample C (mean, 10th/50th/90th percentiles) in memory that stays bounded.

Up to :data:`EXACT_SAMPLES` values the percentiles are exact: linear interpolation over every value,
8 bytes a value. Past that they come from the buckets of DDSketch (Masson, Rim and Lee, 2019,
"DDSketch: a fast and fully-mergeable quantile sketch with relative-error guarantees"): a value v > 0
falls in bucket ⌈log_γ v⌉ with γ = (1 + α) / (1 − α), a bucket counts its values, and a percentile is
read as the representative of the bucket that holds its rank, within α = :data:`RELATIVE_ACCURACY`
(0.5%) of the value at that rank. Memory holds a count a bucket (about 1,400 for C from 0.01 to 10⁴),
not a value a sample. The buckets are filled a buffer of values at a time in numpy (the ``ddsketch``
package adds one value per Python call, about 4 µs). Which of the two gave a row's percentiles is its
``compression_percentiles``.

Whether a spread is exact depends only on how many values it holds, and its buckets only on which
values, so two halves of a dataset merged give the whole's numbers exactly, in either regime. The
mean is an exact sum over every value.

>>> s = Spread()
>>> for c in (1.0, 2.0, 3.0, 4.0): s.add(c)
>>> s.summary()["compression_p50"], s.summary()["compression_percentiles"]
(2.5, 'exact')
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import numpy as np

from compressbench.core.exactsum import ExactSum

EXACT_SAMPLES = 100_000  # values kept for exact percentiles (800 KB); past them, the buckets
RELATIVE_ACCURACY = 0.005
BUFFER = 4096  # values a bucketed spread holds before it adds them to its buckets
PERCENTILES = (10, 50, 90)
EXACT, SKETCHED = "exact", f"DDSketch (relative error {RELATIVE_ACCURACY:.1%})"

_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)


class Buckets:
    """DDSketch's buckets of positive values (zeros and negatives counted apart, as the lowest).

    >>> b = Buckets(); b.add(np.array([1.0, 2.0, 3.0, 100.0]))
    >>> abs(b.quantile(0.5) - 2.0) <= 2.0 * RELATIVE_ACCURACY, b.count
    (True, 4)
    """

    __slots__ = ("counts", "low", "count")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}  # bucket -> values in it
        self.low = 0  # values not above 0
        self.count = 0

    def add(self, values: np.ndarray) -> None:
        positive = values[values > 0]
        self.low += len(values) - len(positive)
        self.count += len(values)
        keys, counts = np.unique(np.ceil(np.log(positive) / _LOG_GAMMA).astype(np.int64), return_counts=True)
        for key, n in zip(keys.tolist(), counts.tolist()):
            self.counts[key] = self.counts.get(key, 0) + n

    def merge(self, other: "Buckets") -> None:
        self.low += other.low
        self.count += other.count
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n

    def quantile(self, q: float) -> float:
        """The representative of the bucket holding rank ⌊q (count − 1)⌋ (0 among the values not above 0):
        γ^k (1 − α) for bucket k, within α of every value in it."""
        rank = math.floor(q * (self.count - 1))
        if rank < self.low:
            return 0.0
        seen = self.low
        for key in sorted(self.counts):
            seen += self.counts[key]
            if seen > rank:
                return _GAMMA ** key * (1 - RELATIVE_ACCURACY)
        raise ValueError("no bucket holds the rank")  # unreachable: the counts add up to count


class Spread:
    """Per-sample C added one at a time (:meth:`add`) or a spread at a time (:meth:`absorb`)."""

    __slots__ = ("values", "buckets", "total", "count")

    def __init__(self) -> None:
        self.values = array("d")  # every value while exact; then the buffer of values not in the buckets yet
        self.buckets: Buckets | None = None
        self.total = ExactSum()  # the sum of the values in the buckets
        self.count = 0

    def add(self, value: float) -> None:
        self.count += 1
        self.values.append(value)
        if len(self.values) > (EXACT_SAMPLES if self.buckets is None else BUFFER):
            self._bucket()

    def absorb(self, other: "Spread") -> None:
        """Count ``other``'s values here too."""
        self.count += other.count
        if self.buckets is None and other.buckets is None and self.count <= EXACT_SAMPLES:
            self.values += other.values
            return
        if self.buckets is None:
            self._bucket()  # past the limit: every value held so far goes into the buckets
        if other.buckets is not None:
            self.buckets.merge(other.buckets)  # type: ignore[union-attr]
            self.total = self.total.merge(other.total)
        self.values += other.values  # a worker's small share waits in the buffer like values added one by one
        if len(self.values) > BUFFER:
            self._bucket()

    def _bucket(self) -> None:
        """Move the values held into the buckets (made at the first call) and the sum."""
        if self.buckets is None:
            self.buckets = Buckets()
        values = np.frombuffer(self.values, dtype=np.float64) if self.values else np.zeros(0)
        self.buckets.add(values)
        self.total.add_floats(values)
        self.values = array("d")

    def summary(self) -> dict[str, Any]:
        """``compression_mean``, ``compression_p10/p50/p90`` and ``compression_percentiles`` (how they were
        computed); all None without values."""
        if not self.count:
            return {"compression_mean": None, **{f"compression_p{p}": None for p in PERCENTILES},
                    "compression_percentiles": None}
        if self.buckets is None:
            quantiles = [float(q) for q in np.percentile(np.asarray(self.values, dtype=np.float64), PERCENTILES)]
            mean = math.fsum(self.values) / self.count
        else:
            self._bucket()
            quantiles = [self.buckets.quantile(p / 100) for p in PERCENTILES]  # type: ignore[union-attr]
            mean = self.total.value / self.count
        return {"compression_mean": mean, **{f"compression_p{p}": q for p, q in zip(PERCENTILES, quantiles)},
                "compression_percentiles": EXACT if self.buckets is None else SKETCHED}
