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
from typing import Any

import numpy as np

from compressbench.adapters._files import existing_file, sha256_of_file
from compressbench.adapters._text import Ids, TextTokenizer, count_flagged, count_id, flag_table, text_counts
from compressbench.core.errors import ConfigError, first_line
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

_BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")  # byte-fallback pieces of BPE/Unigram models


@dataclass(frozen=True)
class HFConfig:
    path: str = field(metadata={"help": "path to a tokenizer.json"})


@register_tokenizer
class HFTokenizer(TextTokenizer):
    family = "hf"
    description = "Hugging Face tokenizers, from a local tokenizer.json"
    Config = HFConfig
    argument = "path"
    requires = ("tokenizers",)
    install_hint = "pip install tokenizers"

    def __init__(self, config: HFConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        from tokenizers import Tokenizer as HFBackend

        path = existing_file(self.resolve(config.path), "a Hugging Face tokenizer.json")
        try:
            self.backend = HFBackend.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception on a bad file
            raise ConfigError(f"{config.path}: not a valid tokenizer.json ({first_line(exc)})") from None
        self.backend.no_truncation()
        self.backend.no_padding()
        self._sha256 = sha256_of_file(path)
        self._unk_id = self._find_unk_id()
        self._flag_table = self._flags()  # built up front so no sample's timing pays for it

    def fingerprint(self) -> str:
        return self._sha256

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
        """``encode_batch``: tokenizers' own thread pool over all cores (RAYON_NUM_THREADS caps it)."""
        if len(texts) == 1:  # no pool to start for one text
            return [self.backend.encode(texts[0], add_special_tokens=False).ids]
        return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=False)]

    def tally(self, text: str, ids: Ids) -> TokenCount:
        unk = count_id(ids, self._unk_id) if self._unk_id is not None else 0
        counts = {**text_counts(text), "unk_tokens": unk, "byte_tokens": count_flagged(ids, self._flag_table)}
        return TokenCount(tokens=len(ids), input_bytes=len(text.encode("utf-8")), counts=counts)
