"""Tokenizing text in the run's worker processes, a batch of records per job.

A text tokenizer's Python side (the per-text tally: characters, words, unknown and byte tokens,
the ledger) and the run's own (reading, hashing, building rows) hold the GIL, so one process cannot
keep many cores busy however parallel the library's encode is. Past its first 32 MiB
(:func:`compressbench.runner.text_in_process_limit`) a text dataset is therefore handed to the run's
supervised workers (``--workers``): each job is a batch of records that one worker reads, hashes and
tokenizes with every pending tokenizer, one library thread per worker, and sends back as rows and
their aggregates. Each worker builds the dataset's tokenizers once, from their class and config
(:class:`Recipe`). A file long enough to be read in pieces is a job of its own and uses every core
of its worker. Jobs come back in order and every count is the same as in one process.

A worker that dies on a job (a native crash, the OOM killer) costs nothing but time: the job's
records run again one per job, and only the record that kills its worker again becomes error rows.

>>> from compressbench import get_tokenizer
>>> [t.name for t in build(recipes([get_tokenizer("tiktoken:cl100k_base")]))]
['tiktoken:cl100k_base']
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compressbench.adapters._text import cores, set_threads
from compressbench.adapters.base import Tokenizer
from compressbench.core.errors import first_line
from compressbench.core.metrics import CountSpec
from compressbench.core.registry import count_specs
from compressbench.core.sample import Measurement, Sample
from compressbench.data.clusters import with_unit
from compressbench.data.formats.base import Record
from compressbench.data.remote import is_url, protocol
from compressbench.data.suite import Dataset
from compressbench.data.textfile import STREAM_ABOVE_BYTES
from compressbench.measure import load_sample, measure_batch
from compressbench.parallel import WorkerPool
from compressbench.results import Group

if TYPE_CHECKING:
    from compressbench.runner import RunOptions

JOB_BYTES = 8 << 20  # text a job may hold (a batch ends at the runner's batch size or here, whichever first)


@dataclass(frozen=True)
class Recipe:
    """How a worker process builds a tokenizer the run built: its class (imported there) and config."""

    cls: type[Tokenizer]
    config: Any
    base: Path
    device: str

    @classmethod
    def of(cls, tokenizer: Tokenizer) -> "Recipe":
        return cls(type(tokenizer), tokenizer.config, tokenizer.base, tokenizer.device)

    def build(self) -> Tokenizer:
        return self.cls(self.config, device=self.device, base=self.base)


def recipes(tokenizers: list[Tokenizer]) -> bytes | None:
    """The recipes of a dataset's tokenizers, pickled once for every job; None when another process could
    not rebuild one (a class defined inside a function, a config that does not pickle, a tokenizer on a
    GPU): the dataset is then tokenized in this process."""
    if any(t.device != "cpu" for t in tokenizers):
        return None
    try:
        return pickle.dumps(tuple(Recipe.of(t) for t in tokenizers))
    except Exception:  # pickle raises PicklingError, AttributeError or TypeError by what it meets
        return None


def build(recipes: bytes) -> list[Tokenizer]:
    """The tokenizers of pickled :func:`recipes` (a class this process cannot import raises here)."""
    return [recipe.build() for recipe in pickle.loads(recipes)]


@dataclass
class TextJob:
    """Records of one text dataset for one worker, with what to measure them with."""

    key: str  # names the dataset's tokenizers: a worker builds them once per key
    recipes: bytes  # :func:`recipes`, unpickled in run_job: a class a worker cannot import (defined in a
    # notebook's ``__main__``) then fails the job there, not the worker process
    options: RunOptions
    dataset: Dataset
    records: list[Record]
    pending: list[tuple[int, ...]]  # per record: the indices (into recipes) of the tokenizers it still needs
    by_unit: bool
    counts: dict[str, CountSpec | None] = field(default_factory=dict)  # declared_counts() of the main process
    threads: int = 1  # library threads: one for a batch of texts, every core for a file read in pieces


@dataclass
class JobResult:
    """What a job measured: each record's sample id and digest (for the dataset's content hash), the rows,
    and their aggregates by tokenizer name (added up in the worker, so that the run only merges them)."""

    digests: list[tuple[str, str]]
    rows: list[Measurement] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)

    def counted(self) -> "JobResult":
        """This result with its rows added into ``groups``."""
        for m in self.rows:
            self.groups.setdefault(m.tokenizer, Group()).add(m)
        return self


_built: dict[str, list[Tokenizer]] = {}  # in a worker: the tokenizers of each key


@dataclass
class JobFailed:
    """A job a worker could not run (its tokenizers would not build there, a result would not pickle)."""

    job: TextJob
    problem: str


def run_job(job: TextJob) -> bytes:
    """In a worker: read, hash and tokenize a job's records; the rows in the order one process makes them
    (per tokenizer, the records in order). The :class:`JobResult`, or the :class:`JobFailed` the main
    process then measures itself, comes back pickled here, so that one that does not pickle fails its
    job, not the pool."""
    from compressbench.runner import set_measures  # the runner imports this module

    try:
        tokenizers = _built.get(job.key)
        if tokenizers is None:
            tokenizers = _built[job.key] = build(job.recipes)
        if declared_counts(tokenizers) != job.counts:  # a family registered in the main process's own code
            raise RuntimeError("the tokenizers' counts are declared differently here than in the main process")
        set_measures(tokenizers, job.options)
        set_threads(job.threads)
        return pickle.dumps(measure_job(job, tokenizers))
    except Exception as exc:
        return pickle.dumps(JobFailed(job, f"{type(exc).__name__}: {first_line(exc)}"))


def measure_job(job: TextJob, tokenizers: list[Tokenizer]) -> JobResult:
    """A job's records read, hashed and tokenized here with ``tokenizers`` (the job's, in order)."""
    load: Callable[..., Sample] = partial(load_sample, job.dataset, max_file_bytes=job.options.max_file_bytes,
                                          hash_mode=job.options.hash)
    if job.by_unit:
        load = partial(with_unit, load)
    samples = [load(record) for record in job.records]
    result = JobResult([(s.id, s.digest) for s in samples])
    for index, t in enumerate(tokenizers):
        result.rows += measure_batch(t, [s for s, wanted in zip(samples, job.pending) if index in wanted])
    return result.counted()


def declared_counts(tokenizers: list[Tokenizer]) -> dict[str, CountSpec | None]:
    """How this process aggregates the counts ``tokenizers`` declare (None: not registered, summed); a
    worker must aggregate them as the main process does."""
    specs = count_specs()
    return {name: specs.get(name) for t in tokenizers for name in type(t).counts}


def shareable(dataset: Dataset) -> bool:
    """Whether worker processes see the dataset's files: not those of the main process's own memory
    (``memory://``)."""
    return not any(is_url(p) and protocol(p) == "memory" for p in dataset.paths)


def _size(record: Record) -> int | None:
    """The bytes a record will read: its text, or a local file's size; None when not known before reading
    (a file behind a URL), 0 for a record that will not be read."""
    if record.data is not None:
        return len(record.data)
    if record.error is not None:
        return 0
    path = record.unit.source.path
    if path is None or record.unit.source.url is not None:
        return None
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the worker reports it


def jobs(template: TextJob, records: Iterator[tuple[Record, tuple[int, ...]]], batch_size: int) -> Iterator[TextJob]:
    """``template`` filled with consecutive records: at most ``batch_size`` of them and :data:`JOB_BYTES`
    of text. A file long enough to be read in pieces is alone, with every core; a file whose size is not
    known before it is read (behind a URL) is alone too, so that jobs in flight stay bounded."""
    streamed = template.dataset.options.get("stream_above_bytes", STREAM_ABOVE_BYTES)
    batch: list[tuple[Record, tuple[int, ...]]] = []
    held = 0

    def job(items: list[tuple[Record, tuple[int, ...]]], threads: int = 1) -> TextJob:
        return replace(template, records=[r for r, _ in items], pending=[p for _, p in items], threads=threads)

    for record, pending in records:
        size = _size(record)
        if size is None or (record.data is None and size > streamed):
            if batch:
                yield job(batch)
                batch, held = [], 0
            yield job([(record, pending)], threads=1 if size is None else cores())
            continue
        batch.append((record, pending))
        held += size
        if len(batch) >= batch_size or held >= JOB_BYTES:
            yield job(batch)
            batch, held = [], 0
    if batch:
        yield job(batch)


def measured(pool: WorkerPool, template: TextJob, records: Iterator[tuple[Record, tuple[int, ...]]],
             batch_size: int, tokenizers: list[Tokenizer], crashed: Callable[[Record, int | None], Sample]
             ) -> Iterator[JobResult]:
    """The results of ``records`` (each with the indices of the ``tokenizers`` it still needs) measured in
    ``pool``'s workers, in order. A job whose worker dies runs again one record per job; a record whose
    worker dies again is the sample ``crashed`` makes (its error rows)."""
    warned = False
    for result in pool.map(run_job, jobs(template, records, batch_size), on_crash=lambda job, _: job):
        if isinstance(result, TextJob):  # its worker died: again, a record per job
            alone = (replace(result, records=[r], pending=[p]) for r, p in zip(result.records, result.pending))
            results = pool.map(run_job, alone, on_crash=partial(_crash_rows, tokenizers, crashed))
        else:
            results = iter([result])
        for done in map(_unpickled, results):
            if isinstance(done, JobFailed):
                if not warned:
                    warnings.warn(f"compressbench: a text worker could not run a batch ({done.problem}); "
                                  "such batches are measured in the main process, more slowly", stacklevel=2)
                    warned = True
                done = measure_job(done.job, tokenizers)
            yield done


def _unpickled(result: bytes | JobResult) -> JobResult | JobFailed:
    return pickle.loads(result) if isinstance(result, bytes) else result


def _crash_rows(tokenizers: list[Tokenizer], crashed: Callable[[Record, int | None], Sample], job: TextJob,
                exitcode: int | None) -> JobResult:
    """The error rows of a record whose worker died on it (alone in its job)."""
    record, pending = job.records[0], job.pending[0]
    sample = with_unit(crashed, record, exitcode) if job.by_unit else crashed(record, exitcode)
    rows = [m for index, t in enumerate(tokenizers) if index in pending for m in measure_batch(t, [sample])]
    return JobResult([(sample.id, sample.digest)], rows).counted()
