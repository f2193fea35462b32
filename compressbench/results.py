"""A run's results: per-group aggregates, dataset tallies, and reading results.jsonl back.

results.jsonl is the record a run can always be rebuilt from: ``--resume``
reads it to skip finished work and ``compressbench merge`` to join shards.

>>> from compressbench.core.sample import Measurement
>>> g = Group()
>>> g.add(Measurement("d", "text", "bytes", "a", 4, 4, 4, 4, 0.0, language="eng"))
>>> g.languages["eng"].samples
1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from compressbench.core.aggregate import Aggregate
from compressbench.core.contenthash import ContentHash
from compressbench.core.errors import ErrorMessages
from compressbench.core.keyset import KeySet
from compressbench.core.jsonlines import read_lines, repair_lines
from compressbench.core.ledger import IdCounts
from compressbench.core.sample import Measurement


@dataclass
class Group:
    """The aggregates of one dataset x modality x tokenizer: all samples, and per language;
    and the token-id counts of the samples whose tokenizer yields ids (the information ledger)."""

    total: Aggregate = field(default_factory=Aggregate)
    languages: dict[str, Aggregate] = field(default_factory=dict)
    ids: IdCounts = field(default_factory=IdCounts)

    def add(self, m: Measurement) -> None:
        self.total.add(m)
        if m.language is not None:
            self.languages.setdefault(m.language, language_aggregate()).add(m)
        if m.token_ids is not None:
            self.ids.add(m.token_ids, m.language)

    def absorb(self, other: "Group") -> None:
        """Count ``other``'s samples here too, exactly as if each had been added (a worker's share)."""
        self.total.absorb(other.total)
        for language, aggregate in other.languages.items():
            self.languages.setdefault(language, language_aggregate()).absorb(aggregate)
        self.ids.absorb(other.ids)


def language_aggregate() -> Aggregate:
    """A per-language aggregate: its row reports no spread of per-sample C, so it keeps none (with many
    languages, up to 800 KB each).

    >>> language_aggregate().summary().get("compression_p50", "not kept")
    'not kept'
    """
    return Aggregate(per_sample=None)


@dataclass
class DatasetTally:
    """What a run saw of one dataset: its samples' content hash and its description."""

    modality: str
    paths: list[str]
    reference_language: str
    content: ContentHash = field(default_factory=ContentHash)
    hash: str = "full"  # the run's --hash mode; with "none" there is no content hash

    def info(self) -> dict[str, Any]:
        return {"modality": self.modality, "samples": self.content.count, "paths": self.paths,
                "content_sha256": None if self.hash == "none" else self.content.hexdigest(),
                "content_hash": self.hash, "reference_language": self.reference_language}


@dataclass
class RunResult:
    """Everything a report needs: aggregates, dataset and tokenizer identities, provenance."""

    suite: str
    groups: dict[tuple[str, str, str], Group]
    datasets: dict[str, dict[str, Any]]
    tokenizers: dict[str, dict[str, Any]]
    provenance: dict[str, Any]

    @property
    def failed(self) -> int:
        """Failed sample x tokenizer measurements."""
        return sum(g.total.errors for g in self.groups.values())


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a results.jsonl, as a list (:func:`iter_rows` streams them)."""
    return list(iter_rows(path))


def iter_rows(path: Path, *, end: int | None = None) -> Iterator[dict[str, Any]]:
    """The rows of a results.jsonl, streamed (up to byte ``end``). A half-written last line (a killed run)
    is skipped."""
    return read_lines(path, "results file", end=end)


class Written:
    """Which results a run has written, held compactly (:class:`~compressbench.core.keyset.KeySet`): per
    (dataset, sample) 16 bytes of key, its content-hash term (32 bytes, what the sample adds to the
    dataset's hash) and a bit per tokenizer whose row is written; rows are added, then :meth:`freeze`.

    >>> w = Written(["bytes", "tiktoken:cl100k_base"])
    >>> w.add({"dataset": "d", "tokenizer": "bytes", "sample": "a.txt", "file_sha256": "11"}); w.freeze()
    >>> w.has("d", "bytes", "a.txt"), w.has("d", "tiktoken:cl100k_base", "a.txt"), w.rows
    (True, False, 1)
    """

    def __init__(self, tokenizers: Iterable[str], *, terms: bool = True) -> None:
        self.bits = {name: 1 << i for i, name in enumerate(dict.fromkeys(tokenizers))}
        self.terms = terms  # keep each sample's content-hash term (off: only which rows are written)
        self.samples = KeySet(value_bytes=32 if terms else 0, flag_bytes=max(1, (len(self.bits) + 7) // 8))
        self.rows = 0

    def add(self, row: dict[str, Any]) -> None:
        """Note a written row (its tokenizer must be one of those given)."""
        term = ContentHash.term(row["sample"], row.get("file_sha256") or "") if self.terms else b""
        self.samples.add((row["dataset"], row["sample"]), term, flags=self.bits[row["tokenizer"]])
        self.rows += 1

    def freeze(self) -> None:
        self.samples.freeze()

    def done(self, dataset: str, sample: str) -> tuple[int | None, int]:
        """The sample's position (None when none of its rows is written) and the bits of its tokenizers done."""
        at = self.samples.position((dataset, sample)) if self.rows else None
        return at, 0 if at is None else self.samples.flags(at)

    def has(self, dataset: str, tokenizer: str, sample: str) -> bool:
        """Whether the row of ``sample`` x ``tokenizer`` is written."""
        return bool(self.done(dataset, sample)[1] & self.bits.get(tokenizer, 0))

    def term(self, at: int) -> bytes:
        """The content-hash term of the sample at position ``at`` (:meth:`done`)."""
        return self.samples.value(at)

    def first_lines(self, lines: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The lines (``token_ids.jsonl`` lines, or rows) whose key is a written row, each once: a run
        killed between a sample's ids line and its results row, then resumed, wrote that sample's ids
        twice (identical)."""
        seen = bytearray(len(self.samples) * self.samples.flag_bytes)  # a bit per written row, not a set of keys
        return (line for line in lines if self._first(line, seen))

    def _first(self, line: dict[str, Any], seen: bytearray) -> bool:
        """Whether ``line``'s key is a written row not marked in ``seen`` yet (then marked)."""
        at, bits = self.done(line["dataset"], line["sample"])
        bit = (bits & self.bits.get(line["tokenizer"], 0)).bit_length() - 1
        if at is None or bit < 0:
            return False
        byte, mask = at * self.samples.flag_bytes + bit // 8, 1 << (bit % 8)
        if seen[byte] & mask:
            return False
        seen[byte] |= mask
        return True

    def repeated(self, rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
        """The first of ``rows`` (those added) whose key came before, or None when every row is distinct
        (checked without reading ``rows`` unless the set holds fewer distinct rows than were added)."""
        if self.samples.flag_total() == self.rows:
            return None
        seen = bytearray(len(self.samples) * self.samples.flag_bytes)
        return next((row for row in rows if not self._first(row, seen)), None)


class PriorRows:
    """The rows an interrupted run wrote to its results.jsonl, read from the file each time they are
    iterated, never held whole (the half-written last line of a killed run is cut first), and never the
    rows the resumed run appends. The error messages met on the way are noted in ``errors`` (unique, in
    order), so the report lists them before the new ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors = ErrorMessages()
        self.end = repair_lines(path, "results file")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in iter_rows(self.path, end=self.end):
            if row.get("error"):
                self.errors.add(row["error"])
            yield row


def row_key(row: dict[str, Any]) -> tuple[str, str, str]:
    """What identifies a result: dataset, tokenizer, sample."""
    return row["dataset"], row["tokenizer"], row["sample"]
