"""``hf:PATH``: a Hugging Face ``tokenizers`` tokenizer from its tokenizer.json.

Counts exclude special tokens (``add_special_tokens=False``); truncation and
padding configured in the file are switched off so N is the whole text's.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("hf:fixtures/tokenizers/udhr-bpe.json").family  # doctest: +SKIP
'hf'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compressbench.adapters._text import FileTextTokenizer, flag_table
from compressbench.core.registry import register_tokenizer

_BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")  # byte-fallback pieces of BPE/Unigram models


@dataclass(frozen=True)
class HFConfig:
    path: str = field(metadata={"help": "path to a tokenizer.json"})


@register_tokenizer
class HFTokenizer(FileTextTokenizer):
    family = "hf"
    description = "Hugging Face tokenizers, from a local tokenizer.json"
    Config = HFConfig
    requires = ("tokenizers",)
    install_hint = "pip install tokenizers"
    file_kind = "Hugging Face tokenizer.json"

    def load(self, path: Path) -> None:
        from tokenizers import Tokenizer as HFBackend

        self.backend = HFBackend.from_file(str(path))
        self.backend.no_truncation()
        self.backend.no_padding()
        self.unk_id = self._find_unk_id()
        self.flags = self._flags()

    def _find_unk_id(self) -> int | None:
        model = json.loads(self.backend.to_str()).get("model", {})
        if isinstance(model.get("unk_id"), int):
            return model["unk_id"]
        token = model.get("unk_token")
        return self.backend.token_to_id(token) if token else None

    def _flags(self) -> np.ndarray:
        backend = self.backend

        def flag(i: int) -> bool:
            token = backend.id_to_token(i)
            if token is None:
                return False
            return bool(_BYTE_PIECE.match(token)) or "\ufffd" in backend.decode([i], skip_special_tokens=False)

        return flag_table(backend.get_vocab_size(with_added_tokens=True), flag)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """``encode_batch_fast`` (tokenizers 0.21 and later: the same ids, no character offsets computed) or
        ``encode_batch``: tokenizers' own thread pool over all cores (RAYON_NUM_THREADS caps it)."""
        if len(texts) == 1:  # no pool to start for one text
            return [self.backend.encode(texts[0], add_special_tokens=False).ids]
        encode = getattr(self.backend, "encode_batch_fast", self.backend.encode_batch)
        return [e.ids for e in encode(texts, add_special_tokens=False)]
