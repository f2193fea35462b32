"""A streaming zstd reader that notices a truncated file.

zstandard's own ``stream_reader`` (and fsspec's ``compression="zstd"``, built on it) ends quietly
when the compressed stream stops in the middle of a frame: a ``.jsonl.zst`` cut short by an
interrupted upload would lose its last records without a word. This reader decompresses frame after
frame (files written by ``zstd`` in pieces, or concatenated, hold several) and raises ``EOFError``,
as gzip, bz2 and lzma do, when the stream ends inside one.

>>> import io, zstandard
>>> whole = zstandard.ZstdCompressor().compress(b"a\\n" * 1000) + zstandard.ZstdCompressor().compress(b"b\\n")
>>> len(open_zstd(io.BytesIO(whole)).read())
2002
>>> open_zstd(io.BytesIO(whole[:-3])).read()
Traceback (most recent call last):
...
EOFError: compressed file ended inside a zstd frame (truncated)
"""

from __future__ import annotations

import io
from typing import IO, Any

CHUNK = 1 << 16  # compressed bytes read at a time
STEP = 1 << 10  # compressed bytes decompressed at a time: one step expands to 32 MiB at the very most


class _Frames(io.RawIOBase):
    """The decompressed bytes of every frame of ``raw``, in order."""

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self.raw, self.zstd = raw, zstandard
        self.frame: Any = None  # the decompressor of the frame being read; None between frames
        self.pending = memoryview(b"")  # decompressed bytes not handed out yet (a view: no copy per read)
        self.left = b""  # compressed bytes read and not decompressed yet

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            if not self.left:
                self.left = self.raw.read(CHUNK)
                if not self.left:
                    if self.frame is not None:
                        raise EOFError("compressed file ended inside a zstd frame (truncated)")
                    return 0
            data, self.left = self.left[:STEP], self.left[STEP:]
            if self.frame is None:
                self.frame = self.zstd.ZstdDecompressor().decompressobj()
            self.pending = memoryview(self.frame.decompress(data))
            if self.frame.eof:  # the next frame starts with what this one left unused
                self.left, self.frame = self.frame.unused_data + self.left, None
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def open_zstd(raw: IO[bytes]) -> io.BufferedReader:
    """A buffered binary stream of ``raw``'s decompressed bytes (``read``, ``read1``, ``readline``)."""
    return io.BufferedReader(_Frames(raw), buffer_size=CHUNK)
