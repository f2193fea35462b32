"""Reading a run's per-sample rows (results.jsonl) back for a report's figures and failures, and for saying
which samples two runs differ in: streamed, in memory bounded whatever the run's size.

>>> results_path("runs/a/summary.json").as_posix()
'runs/a/results.jsonl'
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compressbench.core.errors import ConfigError, ErrorMessages
from compressbench.core.keyset import KeySet
from compressbench.data.sampling import SmallestKeys
from compressbench.results import iter_rows

SHOWN_SAMPLES = 2000  # samples of a dataset a report's figures show at most (every tokenizer's row of each)

SampleIds = Callable[[Collection[str]], Iterable[tuple[str, str]]]  # (dataset, sample) of those datasets in run order
# (repeated: a row per tokenizer)


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
    """A run's sample ids of some datasets, streamed from its results.jsonl at each call (None without the file)."""
    path = results_path(run)
    if not path.is_file():
        return None
    return lambda datasets: ((row["dataset"], row["sample"]) for row in iter_rows(path) if row["dataset"] in datasets)


def row_sample_ids(rows: list[dict[str, Any]]) -> SampleIds:
    """The sample ids of some datasets among rows in memory (a test's own measurements)."""
    return lambda datasets: ((row["dataset"], row["sample"]) for row in rows if row["dataset"] in datasets)


@dataclass(frozen=True)
class Absent:
    """The samples of one run that the other lacks: how many (each counted once) and the first few, in run order."""

    count: int
    first: list[str]


def absent(ids: Iterable[tuple[str, str]], own: KeySet, other: KeySet, *, first: int = 5) -> dict[str, Absent]:
    """Per dataset, the ``ids`` (dataset, sample), whose distinct keys are ``own``, that are not in ``other``.

    >>> ids = [("d", "x"), ("d", "y"), ("d", "x"), ("e", "z")]
    >>> absent(ids, id_set(ids), id_set([("d", "y")]))
    {'d': Absent(count=1, first=['x']), 'e': Absent(count=1, first=['z'])}
    """
    seen = bytearray(len(own))
    counts: dict[str, int] = {}
    listed: dict[str, list[str]] = {}
    for key in ids:
        if key in other:
            continue
        at = own.position(key)
        if at is None or seen[at]:
            continue
        seen[at] = 1
        counts[key[0]] = counts.get(key[0], 0) + 1
        names = listed.setdefault(key[0], [])
        if len(names) < first:
            names.append(key[1])
    return {dataset: Absent(count, listed[dataset]) for dataset, count in counts.items()}


def id_set(ids: Iterable[tuple[str, str]]) -> KeySet:
    """The distinct ``ids`` (dataset, sample), 16 bytes each."""
    keys = KeySet()
    for key in ids:
        keys.add(key)
    keys.freeze()
    return keys


def differing_samples(datasets: Collection[str], base: SampleIds, new: SampleIds) -> dict[str, tuple[Absent, Absent]]:
    """Per dataset of ``datasets``, the samples only the baseline has and those only the new run has: each
    run's ids are read twice, whatever the number of datasets, and 16 bytes a distinct sample are held."""
    base_set, new_set = id_set(base(datasets)), id_set(new(datasets))
    only_base, only_new = absent(base(datasets), base_set, new_set), absent(new(datasets), new_set, base_set)
    none = Absent(0, [])
    return {dataset: (only_base.get(dataset, none), only_new.get(dataset, none)) for dataset in datasets}

