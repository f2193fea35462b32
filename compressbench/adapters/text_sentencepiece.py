"""``sp:PATH``: a SentencePiece model (``.model`` file).

Byte tokens are the model's byte-fallback pieces; unknown tokens are ``unk_id``.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("sp:fixtures/tokenizers/udhr-unigram.model").family  # doctest: +SKIP
'sp'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compressbench.adapters._files import existing_file, sha256_of_file
from compressbench.adapters._text import Ids, TextTokenizer, cores, count_flagged, count_id, flag_table, text_counts
from compressbench.core.errors import ConfigError, first_line
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount


@dataclass(frozen=True)
class SentencePieceConfig:
    path: str = field(metadata={"help": "path to a SentencePiece .model file"})


@register_tokenizer
class SentencePieceTokenizer(TextTokenizer):
    family = "sp"
    description = "SentencePiece (BPE or unigram), from a local .model file"
    Config = SentencePieceConfig
    argument = "path"
    requires = ("sentencepiece",)
    install_hint = "pip install sentencepiece"

    def __init__(self, config: SentencePieceConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import sentencepiece

        path = existing_file(self.resolve(config.path), "a SentencePiece .model file")
        try:
            self.backend = sentencepiece.SentencePieceProcessor(model_file=str(path))
        except (RuntimeError, OSError) as exc:
            raise ConfigError(f"{config.path}: not a valid SentencePiece model ({first_line(exc)})") from None
        self._sha256 = sha256_of_file(path)
        self._flag_table = self._flags()  # built up front so no sample's timing pays for it

    def fingerprint(self) -> str:
        return self._sha256

    def _flags(self) -> np.ndarray:
        return flag_table(self.backend.get_piece_size(), self.backend.is_byte)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """SentencePiece's own batch call, a thread per core."""
        return self.backend.encode(texts, out_type=int, num_threads=cores())

    def tally(self, text: str, ids: Ids) -> TokenCount:
        unk_id = self.backend.unk_id()
        counts = {
            **text_counts(text),
            "unk_tokens": count_id(ids, unk_id),
            "byte_tokens": count_flagged(ids, self._flag_table),
        }
        return TokenCount(tokens=len(ids), input_bytes=len(text.encode("utf-8")), counts=counts)
