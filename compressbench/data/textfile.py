"""Texts too large to hold whole: checked in one streaming pass, then read back in pieces.

A text file larger than ``stream_above_bytes`` (a text decoder option, default 64 MiB) is not read
into memory. :func:`scan_text` reads it once in blocks, hashing its bytes, checking it decodes, and
counting T; the payload is a :class:`TextFile` that tokenizers read back piece by piece
(:meth:`TextFile.pieces`). Memory is then bounded by the piece size, not the file's.

Pieces are cut where the tokenizers' pre-tokenizers split anyway (:func:`safe_cut`): before a single
space between two non-space characters, or after a single newline that follows a non-space
character and precedes another, not a slash (o200k_base keeps punctuation, a newline and slashes
together). Regex pre-tokenizers (tiktoken's cl100k_base and o200k_base, GPT-2
style byte-level BPE) never let a token cross such a point, and SentencePiece with its default
whitespace handling starts a new word there, so the count of the pieces is the whole text's count
exactly. A stretch of ``max_chars`` without such a point (text without spaces or line breaks, such
as some Chinese or Japanese, or a long run of whitespace) is cut at ``max_chars`` anyway so memory
stays bounded; such a forced cut may change the count by a few tokens, and the tokenizers report
how many forced cuts a sample had (``forced_cuts``).

>>> text = "one two\\nthree"
>>> [text[:safe_cut(text, 9)], text[safe_cut(text, 9):]]
['one two\\n', 'three']
>>> safe_cut("一二三四五六", 3) is None
True
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from compressbench.core.contenthash import file_digest
from compressbench.core.errors import SampleError

STREAM_ABOVE_BYTES = 64 << 20  # larger text files are streamed (a text decoder option)
PIECE_CHARS = 1 << 20  # characters per piece handed to a tokenizer
BLOCK_BYTES = 4 << 20  # bytes per read

# A cut before a single space between non-spaces, or after a single newline between non-spaces, the
# next not a slash (o200k_base keeps punctuation, newlines and slashes in one token: "]\n/").
_CUT = re.compile(r"(?<=\S) (?=\S)|(?<=\S\n)(?=[^\s/])")
_WINDOWS = (4 << 10, 64 << 10)  # look for a cut point near the limit first: prose has one every few bytes


def safe_cut(text: str, limit: int) -> int | None:
    """The last cut point in ``text[limit // 2 : limit]`` (see the module's docstring), or None.

    >>> safe_cut("ab cd ef", 7), safe_cut("ab  cd", 5), safe_cut("ab\\ncd", 4)
    (5, None, 3)
    """
    low = limit // 2
    for window in (*_WINDOWS, limit):
        start = max(low, limit - window)
        last = None
        for match in _CUT.finditer(text, start, min(limit + 2, len(text))):  # + 2: the lookahead's character
            if match.start() <= limit:
                last = match.start()
        if last is not None and last > 0:
            return last
        if start == low:
            return None
    return None


@dataclass(frozen=True)
class TextFile:
    """A text file read back in pieces of at most ``piece_chars`` characters; ``raw_bytes`` is T (its
    UTF-8 size, byte-order mark excluded)."""

    path: Path
    encoding: str
    raw_bytes: int
    piece_chars: int = PIECE_CHARS
    stamp: tuple[int, int] | None = None  # the file's size and modification time when T was counted

    def pieces(self) -> Iterator[tuple[str, bool]]:
        """(piece, exact) in order: the pieces join to the whole text; ``exact`` is False after a forced cut
        (no cut point within ``piece_chars``), where a tokenizer's count may differ from the whole text's.
        A file that is no longer the one T was counted on (``stamp``) is a ``SampleError``."""
        max_chars = self.piece_chars
        buffer = ""
        for block in _decoded_blocks(self.path, self.encoding, stamp=self.stamp):
            buffer += block
            while len(buffer) > max_chars:
                cut = safe_cut(buffer, max_chars)
                exact = cut is not None
                if cut is None:
                    cut = max_chars
                yield buffer[:cut], exact
                buffer = buffer[cut:]
        if buffer:
            yield buffer, True


def _stamp(info: os.stat_result) -> tuple[int, int]:
    return info.st_size, info.st_mtime_ns


def _unchanged(fh: BinaryIO, stamp: tuple[int, int] | None) -> None:
    """A ``SampleError`` when the open file is no longer the one ``stamp`` describes (written to meanwhile)."""
    now = _stamp(os.fstat(fh.fileno()))
    if stamp is not None and now != stamp:
        raise SampleError(f"the file changed while it was measured ({stamp[0]:,} bytes, now {now[0]:,}, or "
                          "rewritten): its counts would not be of one text; measure it again once it is complete")


def _decoded_blocks(path: Path, encoding: str, digest: "hashlib._Hash | None" = None, *,
                    stamp: tuple[int, int] | None = None) -> Iterator[str]:
    """The file's text, block by block, without its byte-order mark; a decoding error names its offset.
    ``digest``, when given, is updated with every byte read; ``stamp``: the file must still be that one
    (:func:`_unchanged`, checked when opened and at its end)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    first = True
    with open(path, "rb") as fh:
        _unchanged(fh, stamp)
        while True:
            data = fh.read(BLOCK_BYTES)
            if not data:
                _unchanged(fh, stamp)
            if digest is not None:
                digest.update(data)
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous block
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:  # worded as decode_text words it for a file read whole
                at = offset - pending + exc.start
                raise SampleError(f"not valid {exc.encoding} text: byte 0x{exc.object[exc.start]:02x} at offset {at} "
                                  f"({exc.reason}); set the dataset's encoding if the file is not {encoding}") from None
            if first and text:
                text, first = text.removeprefix("\ufeff"), False
            if text:
                yield text
            if not data:
                return
            offset += len(data)


def scan_text(path: Path, *, encoding: str = "utf-8", hash_mode: str = "full") -> tuple[TextFile, str]:
    """One streaming pass over a text file: (its lazy payload, its digest under ``hash_mode``).

    Every byte is checked to decode and T is counted; with ``full`` the bytes are hashed on the way.
    """
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SampleError(f"unknown text encoding {encoding!r}") from None
    digest = hashlib.sha256() if hash_mode == "full" else None
    raw = 0
    stamp = _stamp(os.stat(path))
    for text in _decoded_blocks(path, encoding, digest, stamp=stamp):
        raw += len(text) if text.isascii() else len(text.encode("utf-8"))
    if raw == 0:
        raise SampleError("empty file (0 bytes): nothing to tokenize")
    hexdigest = digest.hexdigest() if digest is not None else file_digest(path, hash_mode)
    return TextFile(path=path, encoding=encoding, raw_bytes=raw, stamp=stamp), hexdigest
