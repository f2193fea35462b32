"""Reading a run's per-sample rows (results.jsonl) back for a report's figures and failures, and for saying
which samples two runs differ in: streamed, in memory bounded whatever the run's size.

>>> results_path("runs/a/summary.json").as_posix()
'runs/a/results.jsonl'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compressbench.core.errors import ConfigError, ErrorMessages
from compressbench.core.keyset import KeySet
from compressbench.data.sampling import SmallestKeys
from compressbench.results import iter_rows

SHOWN_SAMPLES = 2000  # samples of a dataset a report's figures show at most (every tokenizer's row of each)

SampleIds = Callable[[str], Iterable[str]]  # a dataset's sample ids in run order (repeated: a row per tokenizer)


def results_path(run: str | Path) -> Path:
    """results.jsonl of a run directory, or beside a summary.json."""
    p = Path(run)
    return p / "results.jsonl" if p.is_dir() or p.suffix != ".json" else p.with_name("results.jsonl")


@dataclass
class RunSamples:
    """What a report takes from results.jsonl: the measured rows of at most ``shown`` samples a dataset for its
    figures (those whose ids hash smallest: a random subset that is the same under every tokenizer and from
    one report to the next), the datasets that had more (``subsampled``), and the run's error messages."""

    rows: list[dict[str, Any]]  # in the order of results.jsonl
    subsampled: set[str] = field(default_factory=set)
    errors: ErrorMessages = field(default_factory=ErrorMessages)


def read_results(run: str | Path, *, required: bool = False, shown: int = SHOWN_SAMPLES) -> RunSamples | None:
    """The rows of results.jsonl a report shows, read in one pass (:class:`RunSamples`), or None when the run
    has none (``required`` makes that an error).

    A dataset of a million samples keeps ``shown`` samples' rows, not a million: each measured row is offered
    to a bottom-``shown`` set of sample ids and kept while its sample is in it.
    """
    path = results_path(run)
    if not path.is_file():
        if required:
            raise ConfigError(f"{path}: no such file; per-sample results come from `compressbench run --out DIR`")
        return None
    keep, out = SmallestKeys(seed=0, count=shown), RunSamples(rows=[])
    held: dict[str, dict[str, list[tuple[int, dict[str, Any]]]]] = {}  # dataset -> sample -> (line, row)
    for line, row in enumerate(iter_rows(path)):
        if row.get("error"):
            out.errors.add(row["error"])
            continue
        if not row.get("tokens"):
            continue  # nothing to place on a log scale
        dataset, sample = row["dataset"], row["sample"]
        left_out = keep.offer(dataset, sample)
        if left_out is not None:
            out.subsampled.add(dataset)
            held.get(dataset, {}).pop(left_out, None)
        if keep.kept(dataset, sample):
            held.setdefault(dataset, {}).setdefault(sample, []).append((line, row))
    kept = sorted((pair for samples in held.values() for rows in samples.values() for pair in rows),
                  key=lambda pair: pair[0])
    out.rows = [row for _, row in kept]
    return out


def run_sample_ids(run: str | Path) -> SampleIds | None:
    """A run's sample ids of a dataset, streamed from its results.jsonl at each call (None without the file)."""
    path = results_path(run)
    if not path.is_file():
        return None
    return lambda dataset: (row["sample"] for row in iter_rows(path) if row["dataset"] == dataset)


def row_sample_ids(rows: list[dict[str, Any]]) -> SampleIds:
    """The sample ids of a dataset among rows in memory (a test's own measurements)."""
    return lambda dataset: (row["sample"] for row in rows if row["dataset"] == dataset)


@dataclass(frozen=True)
class Absent:
    """The samples of one run that the other lacks: how many (each counted once) and the first few, in run order."""

    count: int
    first: list[str]


def absent(ids: Iterable[str], own: KeySet, other: KeySet, *, first: int = 5) -> Absent:
    """The ``ids`` (whose distinct keys are ``own``) that are not in ``other``.

    >>> a, b = id_set(["x", "y", "x", "z"]), id_set(["y"])
    >>> absent(["x", "y", "x", "z"], a, b)
    Absent(count=2, first=['x', 'z'])
    """
    seen = bytearray(len(own))
    count, listed = 0, []
    for sample in ids:
        if (sample,) in other:
            continue
        at = own.position((sample,))
        if at is None or seen[at]:
            continue
        seen[at] = 1
        count += 1
        if len(listed) < first:
            listed.append(sample)
    return Absent(count, listed)


def id_set(ids: Iterable[str]) -> KeySet:
    """The distinct ``ids``, 16 bytes each."""
    keys = KeySet()
    for sample in ids:
        keys.add((sample,))
    keys.freeze()
    return keys


def differing_samples(dataset: str, base: SampleIds, new: SampleIds) -> tuple[Absent, Absent]:
    """The samples of ``dataset`` only the baseline has, and those only the new run has: each run's ids are
    read twice, and 16 bytes a distinct sample are held."""
    base_set, new_set = id_set(base(dataset)), id_set(new(dataset))
    return absent(base(dataset), base_set, new_set), absent(new(dataset), new_set, base_set)

