"""Samples (one item of raw data) and measurements (one sample under one tokenizer).

>>> m = Measurement(dataset="d", modality="text", tokenizer="bytes", sample="a.txt",
...                 raw_bytes=12, input_bytes=12, file_bytes=12, tokens=4, seconds=0.0)
>>> m.compression
3.0
>>> m.to_row()["compression"]
3.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any



@dataclass
class Sample:
    """One item of raw data, decoded once and measured by every tokenizer of its modality.

    ``payload`` is the decoded data (``str`` for text); it is None when decoding
    failed, and ``error`` then says why in one line.
    """

    dataset: str
    modality: str
    id: str
    path: Path | None
    file_bytes: int = 0
    raw_bytes: int = 0
    payload: Any = None
    language: str | None = None
    decode_seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    probed: bool = False  # only the header was read (--count-only): tokenizers count from ``meta``
    sha256: str | None = None  # the file's digest; None when the file was not read (``status`` says why)
    status: str | None = None  # why there is no digest: missing, unreadable, not-a-file, too-large, timeout, crashed, undecodable

    @property
    def digest(self) -> str:
        """What the sample adds to its dataset's content hash: the file's sha256, or "" when it was not read
        (a status word is not content)."""
        return self.sha256 or ""


@dataclass(frozen=True)
class TokenCount:
    """What a tokenizer reports for one payload.

    ``counts`` holds additive per-sample counts (e.g. ``chars``, ``words``,
    ``unk_tokens``, ``byte_tokens``) that aggregate by summing. ``ids``, from tokenizers that yield
    token ids, counts how often each id occurs (:mod:`compressbench.core.ledger`).
    """

    tokens: int
    input_bytes: int
    counts: dict[str, float] = field(default_factory=dict)
    ids: Mapping[int, int] | None = field(default=None, repr=False)  # a SparseCounts, or any mapping


@dataclass
class Measurement:
    """One row of results.jsonl: one sample under one tokenizer."""

    dataset: str
    modality: str
    tokenizer: str
    sample: str
    raw_bytes: int
    input_bytes: int | None
    file_bytes: int
    tokens: int | None
    seconds: float | None
    decode_seconds: float = 0.0
    language: str | None = None
    error: str | None = None
    counts: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    token_ids: Mapping[int, int] | None = field(default=None, repr=False)  # id -> occurrences, kept in token_ids.jsonl, not in the row

    @property
    def compression(self) -> float | None:
        """C = T / N in bytes/token, None for a failed or token-less sample."""
        if self.error is not None or not self.tokens:
            return None
        return self.raw_bytes / self.tokens

    def to_row(self) -> dict[str, Any]:
        """A flat JSON-ready dict: the contract fields first, then counts and metadata."""
        row: dict[str, Any] = {
            "dataset": self.dataset,
            "modality": self.modality,
            "tokenizer": self.tokenizer,
            "sample": self.sample,
            "language": self.language,
            "raw_bytes": self.raw_bytes,
            "input_bytes": self.input_bytes,
            "file_bytes": self.file_bytes,
            "tokens": self.tokens,
            "compression": self.compression,
            "seconds": self.seconds,
            "decode_seconds": self.decode_seconds,
            "error": self.error,
        }
        row.update(self.counts)
        row.update(self.meta)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Measurement":
        """Rebuild a measurement from a results.jsonl row (``compression`` is derived, not read).

        The counts are the keys every registered adapter declares (built-ins' and plugins' alike), so
        resume, merge and the Ray engine aggregate what a plain run aggregates.
        """
        from compressbench.core.registry import count_specs

        known = {"dataset", "modality", "tokenizer", "sample", "language", "raw_bytes", "input_bytes",
                 "file_bytes", "tokens", "compression", "seconds", "decode_seconds", "error"}
        counts = {k: row[k] for k in count_specs() if row.get(k) is not None}
        meta = {k: v for k, v in row.items() if k not in known and k not in counts}
        return cls(
            dataset=row["dataset"], modality=row["modality"], tokenizer=row["tokenizer"],
            sample=row["sample"], raw_bytes=row["raw_bytes"], input_bytes=row.get("input_bytes"),
            file_bytes=row.get("file_bytes", 0), tokens=row.get("tokens"), seconds=row.get("seconds"),
            decode_seconds=row.get("decode_seconds", 0.0), language=row.get("language"),
            error=row.get("error"), counts=counts, meta=meta,
        )
