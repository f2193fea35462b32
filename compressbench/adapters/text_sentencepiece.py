"""``sp:PATH``: a SentencePiece model (``.model`` file).

Byte tokens are the model's byte-fallback pieces; unknown tokens are ``unk_id``.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("sp:fixtures/tokenizers/udhr-unigram.model").family  # doctest: +SKIP
'sp'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compressbench.adapters._text import FileTextTokenizer, Ids, cores, flag_table
from compressbench.core.registry import register_tokenizer


@dataclass(frozen=True)
class SentencePieceConfig:
    path: str = field(metadata={"help": "path to a SentencePiece .model file"})


@register_tokenizer
class SentencePieceTokenizer(FileTextTokenizer):
    family = "sp"
    description = "SentencePiece (BPE or unigram), from a local .model file"
    Config = SentencePieceConfig
    requires = ("sentencepiece",)
    install_hint = "pip install sentencepiece"
    file_kind = "SentencePiece model"

    def load(self, path: Path) -> None:
        import sentencepiece

        self.backend = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self.unk_id = self.backend.unk_id()
        self.flags = flag_table(self.backend.get_piece_size(), self.backend.is_byte)
        self._out_type = "numpy" if hasattr(self.backend, "encode_as_numpy") else int

    def encode_batch(self, texts: list[str]) -> list[Ids]:
        """SentencePiece's own batch call, a thread per core; ids as numpy arrays where the library offers
        them (0.2 and later: no Python int per token to build, then convert for counting)."""
        return self.backend.encode(texts, out_type=self._out_type, num_threads=cores())
