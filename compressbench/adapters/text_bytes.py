"""``bytes``: the baseline, one token per UTF-8 byte (N = T, C = 1), so every report has a floor.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("bytes").count("añb").tokens
4
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compressbench.adapters._text import Ids, TextTokenizer, text_counts
from compressbench.core.ledger import SparseCounts
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount


_ASCII = bytes(range(128))


@dataclass(frozen=True)
class BytesConfig:
    """The byte baseline has nothing to configure."""


@register_tokenizer
class BytesTokenizer(TextTokenizer):
    family = "bytes"
    description = "one token per UTF-8 byte: the floor of every report (C = 1)"
    Config = BytesConfig

    @property
    def vocab_size(self) -> int:
        return 256

    def encode_batch(self, texts: list[str]) -> list[Ids]:
        return [()] * len(texts)  # the bytes are the tokens: nothing to encode

    def word_lengths(self, words: list[str]) -> list[int]:
        return [len(w.encode("utf-8")) for w in words]

    def tally(self, text: str, ids: Ids) -> TokenCount:
        data = text.encode("utf-8")
        # A byte of a multi-byte character (any byte >= 0x80) holds only part of that character.
        words = text.split() if self.measure_ledger else None
        counts = {**text_counts(text, words), "unk_tokens": 0, "byte_tokens": len(data.translate(None, _ASCII))}
        if words is None:
            return TokenCount(tokens=len(data), input_bytes=len(data), counts=counts)
        counts["continued_words"] = self.continued.count(text, words)
        values = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
        used = np.flatnonzero(values)  # the token ids are the byte values
        return TokenCount(tokens=len(data), input_bytes=len(data), counts=counts, ids=SparseCounts(used, values[used]))
