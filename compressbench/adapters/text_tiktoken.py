"""``tiktoken:ENCODING``: OpenAI's BPE encodings, loaded offline from hash-verified vocabularies.

Counts are ``encode_ordinary`` counts (special tokens are never produced).

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("tiktoken:cl100k_base").count("hello world").tokens
2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compressbench.adapters._text import TextTokenizer, flag_table, partial_character, thread_map
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount


@dataclass(frozen=True)
class TiktokenConfig:
    encoding: str = field(default="cl100k_base", metadata={"help": "encoding name, e.g. cl100k_base, o200k_base"})
    vocab: str | None = field(default=None, metadata={"help": "a local .tiktoken[.gz] file to use (sha256-verified)"})
    download: bool = field(default=False, metadata={"help": "let tiktoken download a vocabulary not found offline"})


@register_tokenizer
class TiktokenTokenizer(TextTokenizer):
    family = "tiktoken"
    description = "OpenAI BPE (tiktoken), vocabularies resolved offline and sha256-verified"
    Config = TiktokenConfig
    argument = "encoding"
    requires = ("tiktoken",)
    install_hint = "pip install tiktoken bpe-openai"

    def __init__(self, config: TiktokenConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        from compressbench.assets.tiktoken import load_encoding

        vocab = str(self.resolve(config.vocab)) if config.vocab else None
        self.encoding = load_encoding(config.encoding, vocab=vocab, download=config.download)
        self.flags = self._flags()  # built up front so no sample's timing pays for it

    @classmethod
    def name_of(cls, config: Any) -> str:
        return f"tiktoken:{config.encoding}"  # where the file came from does not change N

    def fingerprint(self) -> str:
        from compressbench.assets.tiktoken import vocabularies

        entry = vocabularies().get(self.config.encoding)
        return entry["sha256"] if entry else super().fingerprint()

    def _flags(self) -> np.ndarray:
        enc = self.encoding
        special = set(enc.special_tokens_set)

        def flag(i: int) -> bool:
            try:
                piece = enc.decode_single_token_bytes(i)
            except KeyError:  # a hole in the id space
                return False
            return piece not in special and partial_character(piece)

        return flag_table(enc.n_vocab, flag)

    def _encode(self, text: str) -> np.ndarray:
        # With no special token allowed nor disallowed this is encode_ordinary, returned as a numpy
        # array straight from tiktoken's core (no Python list of ints to build and convert).
        return self.encoding.encode_to_numpy(text, allowed_special=set(), disallowed_special=())

    def encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        """All cores, as ``encode_ordinary_batch`` does: a thread per core (tiktoken releases the GIL)."""
        return thread_map(self._encode, texts)

    def word_lengths(self, words: list[str]) -> list[int]:
        return [len(self._encode(w)) for w in words]  # on the tally's thread (encode_batch uses the pool)

    def count_texts(self, texts: list[str]) -> list[TokenCount]:
        """Encode and tally each text on the same thread: one text's tally overlaps another's encoding."""
        return thread_map(lambda text: self.tally(text, self._encode(text)), texts)

