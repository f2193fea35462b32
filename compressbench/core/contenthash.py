"""An order-independent, mergeable content hash of a dataset.

Each sample contributes sha256("<sample id>\\0<file sha256>"); the dataset's
hash is their sum modulo 2^256, so the hash of a dataset does not depend on the
order its samples were read in, and the hashes of disjoint shards add up to the
hash of the whole. A sample's digest is that of its bytes under the run's hash
mode (:func:`sample_digest`, :func:`file_digest`).

>>> a, b = ContentHash(), ContentHash()
>>> a.add("x.txt", "11"); b.add("y.txt", "22")
>>> whole = ContentHash(); whole.add("y.txt", "22"); whole.add("x.txt", "11")
>>> a.merge(b).hexdigest() == whole.hexdigest()
True
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

_MOD = 1 << 256


@dataclass
class ContentHash:
    """Running multiset hash of (sample id, file digest) pairs."""

    total: int = 0
    count: int = 0

    def add(self, sample_id: str, digest: str) -> None:
        self.add_term(self.term(sample_id, digest))

    @staticmethod
    def term(sample_id: str, digest: str) -> bytes:
        """What one sample adds to the hash (32 bytes): kept by a resumed run for the samples it skips."""
        return hashlib.sha256(f"{sample_id}\0{digest}".encode("utf-8", "surrogatepass")).digest()

    def add_term(self, term: bytes) -> None:
        """Count one sample by its :meth:`term`."""
        self.total = (self.total + int.from_bytes(term, "big")) % _MOD
        self.count += 1

    def merge(self, other: "ContentHash") -> "ContentHash":
        return ContentHash((self.total + other.total) % _MOD, self.count + other.count)

    def hexdigest(self) -> str:
        return f"{self.total:064x}"

    @classmethod
    def from_hex(cls, hexdigest: str, count: int) -> "ContentHash":
        return cls(int(hexdigest, 16), count)


# How a sample's bytes are hashed (``--hash``): "full" hashes every byte; "quick" the size and the
# first and last QUICK_SPAN bytes (with --count-only nothing else is read); "none" records no hash.
HASH_MODES = ("full", "quick", "none")
QUICK_SPAN = 64 << 10  # 64 KiB


def check_hash_mode(mode: str) -> str:
    """``mode`` when it is one of :data:`HASH_MODES`, else a ValueError naming them."""
    if mode not in HASH_MODES:
        raise ValueError(f"unknown hash mode {mode!r}; choose one of {', '.join(HASH_MODES)}")
    return mode


def _quick(size: int, head: bytes, tail: bytes) -> str:
    h = hashlib.sha256(b"quick\0%d\0" % size)
    h.update(head)
    h.update(tail)
    return "quick:" + h.hexdigest()


def sample_digest(data: bytes, mode: str = "full") -> str:
    """The digest of a sample's bytes under a hash mode: a sha256 hex string, ``quick:``-prefixed for
    quick hashes (so they never equal a full one), and ``""`` for ``none``.

    >>> sample_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    True
    >>> big = bytes(200_000)
    >>> sample_digest(big, "quick") == sample_digest(big[:-1] + b"x", "quick")  # the tail is hashed
    False
    >>> sample_digest(big[:100_000] + b"x" + big[100_001:], "quick") == sample_digest(big, "quick")  # the middle is not
    True
    >>> sample_digest(b"abc", "none")
    ''
    """
    check_hash_mode(mode)
    if mode == "full":
        return hashlib.sha256(data).hexdigest()
    if mode == "none":
        return ""
    return _quick(len(data), data[:QUICK_SPAN], data[max(QUICK_SPAN, len(data) - QUICK_SPAN):])


def file_digest(path: Path, mode: str = "full", *, block: int = 1 << 20) -> str:
    """:func:`sample_digest` of a file's bytes, reading only what the mode needs: every byte in
    ``block``-sized pieces for ``full``, at most 2 x 64 KiB for ``quick``, nothing for ``none``.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d, "f"); _ = p.write_bytes(bytes(range(256)) * 1000)
    ...     all(file_digest(p, m) == sample_digest(p.read_bytes(), m) for m in HASH_MODES)
    True
    """
    check_hash_mode(mode)
    if mode == "none":
        return ""
    with open(path, "rb") as fh:
        if mode == "full":
            h = hashlib.sha256()
            while piece := fh.read(block):
                h.update(piece)
            return h.hexdigest()
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(QUICK_SPAN)
        fh.seek(max(QUICK_SPAN, size - QUICK_SPAN))
        return _quick(size, head, fh.read(QUICK_SPAN))
