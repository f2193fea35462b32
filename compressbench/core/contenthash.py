"""An order-independent, mergeable content hash of a dataset.

Each sample contributes sha256("<sample id>\\0<file sha256>"); the dataset's
hash is their sum modulo 2^256, so the hash of a dataset does not depend on the
order its samples were read in, and the hashes of disjoint shards add up to the
hash of the whole.

>>> a, b = ContentHash(), ContentHash()
>>> a.add("x.txt", "11"); b.add("y.txt", "22")
>>> whole = ContentHash(); whole.add("y.txt", "22"); whole.add("x.txt", "11")
>>> a.merge(b).hexdigest() == whole.hexdigest()
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

_MOD = 1 << 256


@dataclass
class ContentHash:
    """Running multiset hash of (sample id, file digest) pairs."""

    total: int = 0
    count: int = 0

    def add(self, sample_id: str, digest: str) -> None:
        line = f"{sample_id}\0{digest}".encode()
        self.total = (self.total + int.from_bytes(hashlib.sha256(line).digest(), "big")) % _MOD
        self.count += 1

    def merge(self, other: "ContentHash") -> "ContentHash":
        return ContentHash((self.total + other.total) % _MOD, self.count + other.count)

    def hexdigest(self) -> str:
        return f"{self.total:064x}"

    @classmethod
    def from_hex(cls, hexdigest: str, count: int) -> "ContentHash":
        return cls(int(hexdigest, 16), count)
