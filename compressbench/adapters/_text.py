"""What every text adapter shares: the payload check, the per-sample text counts and the
counting skeleton (:class:`TextTokenizer`), and loading a tokenizer from a definition file
(:class:`FileTextTokenizer`). An adapter supplies only how it encodes and which ids it flags.

>>> text_counts("héllo wörld")
{'chars': 11, 'words': 2}
>>> partial_character("é".encode()[:1])
True
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from compressbench.adapters._files import existing_file, sha256_of_file
from compressbench.adapters.base import Tokenizer
from compressbench.core.errors import ConfigError, SampleError, first_line
from compressbench.core.sample import TokenCount


def require_text(payload: object) -> str:
    """The payload as ``str``, or a sample error naming what came instead."""
    if not isinstance(payload, str):
        raise SampleError(f"text tokenizer got a {type(payload).__name__} payload, expected decoded text")
    return payload


def text_counts(text: str) -> dict[str, float]:
    """Characters (code points) and whitespace-separated words, for chars/token and fertility."""
    return {"chars": len(text), "words": len(text.split())}


def partial_character(piece: bytes) -> bool:
    """Whether a token's bytes are not whole UTF-8 characters (part of a character, or a stray byte)."""
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def flag_table(size: int, flag: Callable[[int], bool]) -> np.ndarray:
    """A boolean array over token ids, computed once per vocabulary."""
    return np.fromiter((flag(i) for i in range(size)), dtype=bool, count=size)


def count_flagged(ids: Sequence[int] | np.ndarray, table: np.ndarray) -> int:
    """How many of ``ids`` the table flags (ids outside the table count as not flagged)."""
    if not len(ids):
        return 0
    arr = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64, count=len(ids))
    if arr.max() >= len(table):
        arr = arr[arr < len(table)]
    return int(np.count_nonzero(table[arr]))


def count_id(ids: Sequence[int] | np.ndarray, token_id: int | None) -> int:
    """How often ``token_id`` occurs in ``ids`` (0 when the vocabulary has no such token)."""
    if token_id is None:
        return 0
    return ids.count(token_id) if isinstance(ids, list) else int(np.count_nonzero(np.asarray(ids) == token_id))


class TextTokenizer(Tokenizer):
    """A text adapter: ``encode`` gives the ids; the counts (chars, words, unknown and byte tokens) follow.

    Subclasses set ``unk_id`` (None when the vocabulary has no unknown token) and build
    ``flags``, a :func:`flag_table` of the ids that are byte pieces or partial characters,
    in their constructor so that no sample's timing pays for it.
    """

    modality = "text"
    unk_id: int | None = None
    flags: np.ndarray

    @abstractmethod
    def encode(self, text: str) -> Sequence[int] | np.ndarray:
        """The token ids of ``text``, no special tokens added."""

    def count(self, payload: object) -> TokenCount:
        text = require_text(payload)
        ids = self.encode(text)
        counts = {**text_counts(text), "unk_tokens": count_id(ids, self.unk_id),
                  "byte_tokens": count_flagged(ids, self.flags)}
        return TokenCount(tokens=len(ids), input_bytes=len(text.encode("utf-8")), counts=counts)


class FileTextTokenizer(TextTokenizer):
    """A text tokenizer defined by one file (the spec's argument ``path``), identified by the file's sha256."""

    argument = "path"
    file_kind: ClassVar[str]  # what the file is, for errors: "SentencePiece model"

    def __init__(self, config: Any, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        path = existing_file(self.resolve(config.path), f"a {self.file_kind}")
        try:
            self.load(path)
        except Exception as exc:  # back-ends raise bare Exception, RuntimeError or OSError on a bad file
            raise ConfigError(f"{config.path}: not a valid {self.file_kind} ({first_line(exc)})") from None
        self._sha256 = sha256_of_file(path)

    @abstractmethod
    def load(self, path: Path) -> None:
        """Load the back-end from ``path``; set ``unk_id`` and ``flags``."""

    def fingerprint(self) -> str:
        return self._sha256
