"""A compact set of keys (tuples of strings), each with a few bytes of its own: 16 bytes a key.

A resumed run must know which of possibly hundreds of millions of results are already written, and
each finished sample's content digest. Held as Python tuples and dicts that costs kilobytes a row;
here each key is its 128-bit BLAKE2b digest (a collision is as likely as guessing a random 128-bit
number: about 10⁻²¹ among 10⁹ keys) in two sorted arrays of 64-bit integers, looked up by binary
search. Keys are added, then :meth:`KeySet.freeze` sorts them once; a frozen set is read-only.

Each key can keep a ``value`` (fixed size; a key added twice keeps its last) and ``flags`` (bits;
a key added twice keeps the OR of all of them).

>>> keys = KeySet(value_bytes=2, flag_bytes=1)
>>> keys.add(("d", "a.txt"), b"xy", flags=0b01); keys.add(("d", "b.txt"), b"zw"); keys.add(("d", "a.txt"), b"xy", flags=0b10)
>>> keys.freeze()
>>> len(keys), keys.position(("d", "c.txt"))
(2, None)
>>> at = keys.position(("d", "a.txt")); keys.value(at), keys.flags(at)
(b'xy', 3)
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from array import array
from collections.abc import Sequence

import numpy as np

KEY_BYTES = 16  # a BLAKE2b-128 digest of the key's parts
_PAIR = struct.Struct(">QQ")  # a digest as two 64-bit integers, the first sorted on


def digest(key: Sequence[str]) -> bytes:
    """The 16-byte digest of a key's parts, so that no two keys of one length share an encoding: the parts
    joined with NUL (then the text holds exactly len(key) - 1 NULs), or, when a part holds NUL itself,
    len(key) NULs followed by each part prefixed with its length (at least len(key) NULs).

    >>> digest(("a", "b\\0c")) != digest(("a\\0b", "c")), digest(("1:", "1:x")) != digest(("\\0", "x"))
    (True, True)
    """
    text = "\0".join(key)
    if text.count("\0") != len(key) - 1:
        text = "\0" * len(key) + "".join(f"{len(part)}:{part}" for part in key)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()


class KeySet:
    """Keys (tuples of one length) added one by one, then frozen into sorted arrays; each keeps
    ``value_bytes`` bytes (the last added wins) and ``flag_bytes`` bytes of flags (OR-ed). Once frozen,
    ``len`` counts distinct keys and :meth:`position` finds one."""

    def __init__(self, *, value_bytes: int = 0, flag_bytes: int = 0) -> None:
        self.value_bytes, self.flag_bytes = value_bytes, flag_bytes
        self._keys, self._values, self._flags = bytearray(), bytearray(), bytearray()
        self._hi, self._lo = array("Q"), array("Q")  # sorted: bisect on an array reads Python ints in C
        self._vals = np.zeros((0, value_bytes), dtype=np.uint8)
        self._frozen = False

    def add(self, key: Sequence[str], value: bytes = b"", *, flags: int = 0) -> None:
        """Add ``key`` with its value (exactly ``value_bytes`` long) and flags (below 2^(8 flag_bytes))."""
        if self._frozen:
            raise RuntimeError("this key set is frozen; add every key before freeze()")
        if len(value) != self.value_bytes:
            raise ValueError(f"expected a value of {self.value_bytes} bytes, got {len(value)}")
        self._keys += digest(key)
        self._values += value
        self._flags += flags.to_bytes(self.flag_bytes, "little")

    def freeze(self) -> None:
        """Sort the keys, merge the ones added more than once, and free the build buffers (the peak is
        about twice the build buffers, briefly)."""
        self._frozen = True
        n = len(self._keys) // KEY_BYTES
        if not n:
            return
        pairs = np.frombuffer(self._keys, dtype=">u8").reshape(n, 2)
        hi, lo = pairs[:, 0].astype(np.uint64), pairs[:, 1].astype(np.uint64)
        del pairs
        self._keys = bytearray()
        order = np.lexsort((lo, hi))  # stable: equal keys stay in the order they were added
        hi, lo = hi[order], lo[order]
        first = np.ones(n, dtype=bool)
        first[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
        starts = np.flatnonzero(first)
        del first
        self._hi, self._lo = array("Q", hi[starts].tobytes()), array("Q", lo[starts].tobytes())
        del hi, lo
        lasts = order[np.append(starts[1:], n) - 1]  # of equal keys, the last added gives the value
        values = np.frombuffer(self._values, dtype=np.uint8).reshape(n, self.value_bytes)
        self._vals = values[lasts]
        del values
        self._values = bytearray()
        flags = np.frombuffer(self._flags, dtype=np.uint8).reshape(n, self.flag_bytes)
        merged = np.bitwise_or.reduceat(flags[order], starts, axis=0) if self.flag_bytes else flags[:0]
        del flags
        self._flags = bytearray(merged.tobytes())  # sliced by flags(): faster than indexing the array

    def position(self, key: Sequence[str]) -> int | None:
        """The key's index among the sorted keys (0 to len - 1), or None when it is not in the set."""
        if not self._frozen:
            raise RuntimeError("freeze() the key set before looking keys up")
        if not self._hi:
            return None  # nothing to find (a run that resumes nothing asks for every record)
        hi, lo = _PAIR.unpack(digest(key))
        at = bisect.bisect_left(self._hi, hi)
        while at < len(self._hi) and self._hi[at] == hi:
            if self._lo[at] == lo:
                return at
            at += 1
        return None

    def __contains__(self, key: object) -> bool:
        return self.position(key) is not None  # type: ignore[arg-type]

    def value(self, at: int) -> bytes:
        """The value kept with the key at position ``at``."""
        return self._vals[at].tobytes()

    def flags(self, at: int) -> int:
        """The flags (OR-ed) of the key at position ``at``."""
        w = self.flag_bytes
        return int.from_bytes(self._flags[at * w:(at + 1) * w], "little")

    def flag_total(self) -> int:
        """How many flag bits are set over all keys (frozen)."""
        return int(np.unpackbits(np.frombuffer(self._flags, dtype=np.uint8)).sum()) if self._flags else 0

    def __len__(self) -> int:
        return len(self._hi) if self._frozen else len(self._keys) // KEY_BYTES
