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

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compressbench.core.aggregate import Aggregate
from compressbench.core.contenthash import ContentHash
from compressbench.core.errors import ConfigError, not_utf8, reading
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
            self.languages.setdefault(m.language, Aggregate()).add(m)
        if m.token_ids is not None:
            self.ids.add(m.token_ids, m.language)

    def absorb(self, other: "Group") -> None:
        """Count ``other``'s samples here too, exactly as if each had been added (a worker's share)."""
        self.total.absorb(other.total)
        for language, aggregate in other.languages.items():
            self.languages.setdefault(language, Aggregate()).absorb(aggregate)
        self.ids.absorb(other.ids)


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


def read_rows(path: Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The rows of a results.jsonl. A half-written last line (a killed run) is dropped, and with
    ``repair`` also cut from the file so that appending goes on from a clean line.
    """
    with reading(path, "results file"):
        data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if repair and len(complete) != len(data):
        with path.open("r+b") as fh:
            fh.truncate(len(complete))
    try:
        text = complete.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc, "results.jsonl") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not a JSON line ({exc.msg}); the file is damaged") from None
    return rows


def row_key(row: dict[str, Any]) -> tuple[str, str, str]:
    """What identifies a result: dataset, tokenizer, sample."""
    return row["dataset"], row["tokenizer"], row["sample"]
