"""Running a suite: decode each sample once, measure it with every tokenizer of its modality.

Results stream out row by row (one bad sample becomes an error row and the run
goes on); aggregates accumulate per dataset x modality x tokenizer and per
language. A run can be one shard of a suite (``Shard``) and can resume from the
rows an interrupted run left (``prior_rows``): finished work is not redone.

>>> from compressbench.data.suite import parse_suite
>>> suite = parse_suite({"tokenizers": ["bytes"], "datasets": [
...     {"name": "code", "modality": "text", "paths": ["compressbench/runner.py"]}]},
...     source="inline", base=Path("."))
>>> result = run_suite(suite)
>>> result.groups[("code", "text", "bytes")].total.summary()["compression"]
1.0
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from compressbench.adapters.base import Tokenizer
from compressbench.core.aggregate import Aggregate
from compressbench.core.errors import ConfigError
from compressbench.core.ledger import DEFAULT_RENYI_ALPHA, add_lines, ids_line
from compressbench.core.registry import get_tokenizer
from compressbench.core.sample import Measurement, Sample
from compressbench.data import reading
from compressbench.data.formats.base import Record, Unit, unit_id
from compressbench.data.modalities import PARALLEL_DECODE, batches_in_flight, default_batch_size
from compressbench.core.confidence import half_width, needed
from compressbench.data.clusters import UnitDraw, refuse_uncounted, with_unit
from compressbench.data.sampling import DatasetDraw, Draw, SampleSpec, dataset_draw
from compressbench.data.suite import Dataset, Suite
from compressbench.measure import DEFAULT_MAX_FILE_BYTES, batched, load_sample, measure_batches
from compressbench.parallel import WorkerPool, exit_status, signal_name
from compressbench import textjobs
from compressbench.provenance import library_versions, machine, utc_now
from compressbench.results import DatasetTally, Group, RunResult, Written


def build_tokenizers(specs: tuple[str, ...] | list[str], *, device: str, base: Path) -> list[Tokenizer]:
    """Every tokenizer of a suite, built before any sample is read (config errors stop the run early)."""
    tokenizers = [get_tokenizer(spec, device=device, base=base) for spec in specs]
    names = [t.name for t in tokenizers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"tokenizer(s) listed twice: {', '.join(duplicates)}")
    return tokenizers


def check_coverage(suite: Suite, tokenizers: list[Tokenizer]) -> None:
    """Every dataset has a tokenizer of its modality, and a file system for each of its URLs (an unknown
    protocol, a back-end not installed), checked before any output is created; nothing is read."""
    from compressbench.data.remote import filesystem, is_url

    modalities = {t.modality for t in tokenizers}
    for ds in suite.datasets:
        if ds.modality not in modalities:
            raise ConfigError(f"dataset {ds.name!r} is {ds.modality} but the suite has no {ds.modality} tokenizer; "
                              f"add one (see `compressbench list`) or drop the dataset")
        for path in ds.paths:
            if is_url(path):
                filesystem(path)


# How --shard splits a suite, recorded in run.json and the summary's provenance: shards of
# different schemes never resume or merge together (before "unit", records were split by id).
SHARD_SCHEME = "unit"


@dataclass(frozen=True)
class Shard:
    """Shard K of N (K counts from 1): the reading units whose identity hashes to K-1 modulo N.

    A unit (a loose file, a Parquet row group, a tar, a JSONL, CSV or zip file) belongs to one
    shard whole, so the N shards together read each unit once; a record's shard is its unit's.
    A loose file's identity is its sample id.

    >>> Shard.parse("2/4")
    Shard(index=2, count=4)
    >>> sum(Shard(k, 3).owns("fixtures/a.txt") for k in (1, 2, 3))
    1
    >>> from compressbench.data.discover import Found
    >>> group = Unit(Found("c.parquet", Path("c.parquet")), "parquet", part=1)
    >>> [Shard(k, 3).owns_unit(group) for k in (1, 2, 3)].count(True)
    1
    """

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        k, sep, n = text.partition("/")
        if not sep or not k.strip().isdigit() or not n.strip().isdigit():
            raise ConfigError(f"--shard {text!r}: write K/N, e.g. 1/4 (K counts from 1)")
        shard = cls(int(k), int(n))
        if not 1 <= shard.index <= shard.count:
            raise ConfigError(f"--shard {text!r}: K must be between 1 and N (K counts from 1)")
        return shard

    def owns(self, key: str) -> bool:
        """Whether ``key`` (a unit's identity) hashes to this shard."""
        digest = hashlib.sha256(key.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def owns_unit(self, unit: Unit) -> bool:
        """Whether this shard reads ``unit`` (decided before the unit is opened)."""
        return self.owns(unit_id(unit))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _progress(total: int) -> Any:
    """A progress bar on stderr for runs longer than a second; none when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, unit="sample", file=sys.stderr, delay=1.0, disable=not sys.stderr.isatty())


class Counted:
    """An iterable that counts what passed through it (``count``), read once.

    >>> items = Counted(iter("abc")); _ = list(items); items.count
    3
    """

    def __init__(self, items: Iterable[Any]) -> None:
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.count += 1
            yield item


class _Work:
    """What an interrupted run already did, read from its rows in one pass (each handed to ``add``) and
    held compactly (:class:`~compressbench.results.Written`: about 50 bytes a sample), so that finished
    work is not redone. ``prior`` is iterated again, from the start, only to plan a resumed
    ``--precision`` sample's rounds, so it should read its rows anew each time (a list, or
    :class:`~compressbench.results.PriorRows`); a one-pass iterator is read into a list."""

    def __init__(self, prior_rows: Iterable[dict[str, Any]], tokenizers: list[str],
                 add: Callable[[dict[str, Any]], None]) -> None:
        self.prior = list(prior_rows) if iter(prior_rows) is prior_rows else prior_rows
        self.written = Written(tokenizers)
        for row in self.prior:
            add(row)
            self.written.add(row)
        self.written.freeze()

    @property
    def count(self) -> int:
        """The rows the interrupted run wrote (0: not a resume)."""
        return self.written.rows

    def pending(self, dataset: str, tokenizers: list[Tokenizer], sample_id: str) -> tuple[list[Tokenizer], bytes]:
        """The tokenizers whose row of the sample is not written yet, and, when there are none, the
        sample's content-hash term (else ``b""``)."""
        if not self.count:  # not a resume: every tokenizer
            return tokenizers, b""
        at, bits = self.written.done(dataset, sample_id)
        pending = [t for t in tokenizers if not bits & self.written.bits[t.name]]
        return pending, self.written.term(at) if at is not None and not pending else b""

    def has(self, dataset: str, tokenizer: str, sample_id: str) -> bool:
        """Whether the row of the sample x tokenizer is written."""
        return bool(self.count) and self.written.has(dataset, tokenizer, sample_id)

    def past(self, ds: Dataset, drawn: DatasetDraw | UnitDraw) -> dict[str, Aggregate]:
        """The earlier rows of ``ds`` that lie beyond its sample so far, added up by tokenizer
        (:meth:`DatasetDraw.past`); none when not resuming."""
        if not self.count:
            return {}
        return drawn.past(row for row in self.prior if row["dataset"] == ds.name)


def _failed(ds: Dataset, record: Record, problem: str, status: str) -> Sample:
    """The error row of a sample its worker could not deliver."""
    return Sample(dataset=ds.name, modality=ds.modality, id=record.id, path=record.unit.source.path, status=status,
                  language=ds.language_of(record.name, record.fields), error=f"{record.id}: {problem}")


def _timed_out(ds: Dataset, timeout: float | None) -> Callable[[Record], Sample]:
    def error(record: Record) -> Sample:
        return _failed(ds, record, f"reading and decoding took longer than the per-sample timeout "
                                   f"of {timeout:g} s (--timeout)", "timeout")
    return error


def _crashed(ds: Dataset, what: str = "decoder crashed", doing: str = "reading") -> Callable[[Record, int | None], Sample]:
    def error(record: Record, exitcode: int | None) -> Sample:
        name = signal_name(exitcode)
        return _failed(ds, record, f"{what}: {exit_status(exitcode)} while {doing} {record.id}"
                                   f"{f' ({name})' if name else ''}", "crashed")
    return error


def _needed(ds: Dataset, records: Iterable[Record], run: "Run", tally: DatasetTally, tokenizers: list[Tokenizer],
            bar: Any) -> Iterator[Record]:
    """The records (of one round, :meth:`Run.draws`) that still need a tokenizer, read lazily in order.

    Records finished before a resume count in the tally from their earlier digest and are not
    loaded again. The bar's total counts loose files up front (all of them unless sampling)
    and other records as they are read.
    """
    for record in records:
        if not reading.is_loose(record.unit) or run.sampling is not None:
            bar.total += 1
        pending, term = run.work.pending(ds.name, tokenizers, record.id)
        if pending:
            yield record
        else:
            tally.content.add_term(term)
            bar.update(1)


def _samples(ds: Dataset, needed: Iterator[Record], tally: DatasetTally, options: RunOptions, pool: WorkerPool,
             bar: Any, *, by_unit: bool = False) -> Iterator[Sample]:
    """Load, in order, the samples that still need a tokenizer; count every sample in the tally.

    Media decode in ``options.workers`` supervised processes (records are read here, with bounded
    read-ahead; a decoder that crashes fails its sample only); text decodes here (the text that goes to the
    workers is read there, :func:`_measure_in_workers`).
    ``by_unit``: each sample names its reading unit (a sample of whole units).
    """
    load = partial(load_sample, ds, count_only=options.count_only, max_file_bytes=options.max_file_bytes,
                   hash_mode=options.hash)
    on_timeout, on_crash = _timed_out(ds, options.timeout), _crashed(ds)
    if by_unit:  # the error rows of a timed-out or crashed decoder name their unit too
        load, on_timeout, on_crash = (partial(with_unit, f) for f in (load, on_timeout, on_crash))
    loaded = (pool.map(load, needed, timeout=options.timeout, on_timeout=on_timeout, on_crash=on_crash)
              if ds.modality in PARALLEL_DECODE else map(load, needed))
    for sample in loaded:
        tally.content.add(sample.id, sample.digest)
        bar.update(1)
        yield sample


TEXT_IN_PROCESS_BYTES = 32 << 20  # starting the workers and building the tokenizers there costs about a second
TEXT_WORKERS_FROM = 3  # on 2 cores one process with the library's threads was as fast (docs/memory.md)


@dataclass(frozen=True)
class RunOptions:
    """How a run reads its samples; none of these changes a sample's T or N."""

    batch_size: int | None = None  # samples per tokenizer call (default: per modality)
    count_only: bool = False  # read headers only where a modality can (N from shapes); text is always tokenized
    workers: int = 1  # processes decoding media (audio, image, video) and tokenizing text (text_in_process_limit)
    timeout: float | None = None  # seconds to read and decode one sample in a worker
    in_process: bool = False  # decode media in this process: no worker to start, but a decoder crash ends the run
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # larger files are error rows, never read
    hash: str = "full"  # how each sample's bytes are hashed: full, quick (size, first and last 64 KiB) or none
    renyi_alpha: float = DEFAULT_RENYI_ALPHA  # the order of the Rényi efficiency in the summary
    fidelity: bool = True  # PSNR and SSIM of what image and video models' input keeps (off: --no-fidelity)
    ledger: bool = True  # token-id counts and continued words of text tokenizers (off: --no-ledger)
    # text a dataset tokenizes in this process before the rest goes to the workers (with 2 or more and not
    # in_process); None: 32 MiB with 3 or more workers, else all of it (text_in_process_limit)
    text_in_process_bytes: int | None = None


def set_measures(tokenizers: list[Tokenizer], options: RunOptions) -> None:
    """Turn the optional measures on or off as ``options`` ask: PSNR and SSIM of image and video
    tokenizers (coverage is always reported) and the information ledger of text tokenizers (N and the
    text counts always are)."""
    for t in tokenizers:
        if hasattr(t, "measure_fidelity"):
            t.measure_fidelity = options.fidelity
        if hasattr(t, "measure_ledger"):
            t.measure_ledger = options.ledger


class Run:
    """The state of one run of a suite, whichever engine executes it: what is left to do,
    the aggregates and dataset tallies so far, and the rows streaming out.

    ``emit_ids`` receives the token-id counts of each new row that has them (a ``token_ids.jsonl``
    line), before ``emit`` receives the row; ``prior_ids`` are the lines an interrupted run wrote (given, they
    must hold a line for every earlier text row measured with the ledger; None: not checked).
    """

    def __init__(self, suite: Suite, tokenizers: list[Tokenizer], *, options: RunOptions, shard: Shard | None,
                 prior_rows: Iterable[dict[str, Any]], emit: Callable[[dict[str, Any]], None] | None,
                 emit_ids: Callable[[dict[str, Any]], None] | None = None,
                 prior_ids: Iterable[dict[str, Any]] | None = None,
                 sampling: SampleSpec | None = None) -> None:
        check_coverage(suite, tokenizers)
        self.suite, self.tokenizers, self.options, self.shard, self.emit = suite, tokenizers, options, shard, emit
        self.emit_ids = emit_ids
        self.sampling, self.drawn = sampling, {}  # drawn: each dataset's sample so far (with sampling)
        self.started = utc_now()
        self.groups: dict[tuple[str, str, str], Group] = {
            (ds.name, ds.modality, t.name): Group() for ds in suite.datasets for t in self.tokenizers_for(ds)
        }
        # text rows of a run with the ledger have a token_ids.jsonl line each, written before the row
        self._with_ids = {t.name for t in tokenizers if options.ledger and hasattr(t, "measure_ledger")}
        self._rows_with_ids = 0
        self.work = _Work(prior_rows, [t.name for t in tokenizers], self._add_prior)
        lines = Counted(self.work.written.first_lines(prior_ids or ()))
        add_lines(self.groups, lines)
        if prior_ids is not None and lines.count < self._rows_with_ids:
            raise ConfigError(f"cannot resume: token_ids.jsonl holds the token-id counts of {lines.count:,} of the "
                              f"{self._rows_with_ids:,} measured text rows (it was cut short or edited), so the "
                              "information ledger would be wrong; start over with --force or into another --out")
        self.tallies = {ds.name: DatasetTally(ds.modality, list(ds.paths), ds.reference_language, hash=options.hash)
                        for ds in suite.datasets}

    def _add_prior(self, row: dict[str, Any]) -> None:
        """Count a row of the interrupted run."""
        key = (row["dataset"], row["modality"], row["tokenizer"])
        if key not in self.groups:
            raise ConfigError(f"cannot resume: earlier results name {key}, which this suite does not have")
        self.groups[key].add(Measurement.from_row(row))
        if row.get("error") is None and row["tokenizer"] in self._with_ids:
            self._rows_with_ids += 1

    def tokenizers_for(self, ds: Dataset) -> list[Tokenizer]:
        return [t for t in self.tokenizers if t.modality == ds.modality]

    def units(self, ds: Dataset) -> list[Unit]:
        """All the dataset's reading units, in order (:meth:`mine` keeps this run's shard of them)."""
        return reading.units(ds)

    def mine(self, units: list[Unit]) -> list[Unit]:
        """The units this run's shard reads (all of them without a shard)."""
        return units if self.shard is None else [u for u in units if self.shard.owns_unit(u)]

    def expected(self, units: list[Unit]) -> int:
        """How many samples of ``units`` this run's shard has that are known before reading: the loose files
        (none when sampling: which are drawn is known as they come)."""
        return 0 if self.sampling else sum(1 for u in self.mine(units) if reading.is_loose(u))

    def draws(self, ds: Dataset, units: list[Unit]) -> Iterator[Iterator[Record]]:
        """The records this run reads, round by round: without sampling, one round of every record of
        its units; with it, the sample's rounds (:mod:`compressbench.data.sampling`) until each
        tokenizer's interval of C is as narrow as ``--precision`` asks or the dataset is exhausted."""
        max_bytes = self.options.max_file_bytes
        if self.sampling is None:
            yield (r for u in self.mine(units) for r in reading.records(ds, u, max_bytes=max_bytes))
            return
        drawn = self.drawn[ds.name] = dataset_draw(
            self.sampling, units, mine=lambda u: self.shard is None or self.shard.owns_unit(u),
            read=lambda u, keep: reading.records(ds, u, max_bytes=max_bytes, keep=keep))
        for draw in sample_rounds(self, ds, drawn):
            yield drawn.round(draw)

    def sampling_info(self, name: str) -> dict[str, Any]:
        """What a dataset's summary needs of its sample: its population and rounds (none when exhaustive)."""
        drawn = self.drawn.get(name)
        if drawn is None:
            return {}
        return drawn.info(sharded=self.shard is not None)

    def add(self, m: Measurement) -> None:
        """Count a new measurement and send its row out."""
        self.groups[(m.dataset, m.modality, m.tokenizer)].add(m)
        self.send(m)

    def absorb(self, ds: Dataset, groups: dict[str, Group]) -> None:
        """Count measurements a worker has already added up, by tokenizer name (their rows go by :meth:`send`)."""
        for name, group in groups.items():
            self.groups[(ds.name, ds.modality, name)].absorb(group)

    def send(self, m: Measurement) -> None:
        """Send a new measurement's row (and its token-id counts) out."""
        if self.emit_ids is not None and m.token_ids is not None:
            self.emit_ids(ids_line(m.dataset, m.modality, m.tokenizer, m.sample, m.language, m.token_ids))
        if self.emit is not None:
            self.emit(m.to_row())

    def result(self, **provenance: Any) -> RunResult:
        """The finished run, with its provenance."""
        tokenizers = self.tokenizers
        info = {
            "versions": library_versions(), "machine": machine(),
            "device": ",".join(sorted({t.device for t in tokenizers})),
            "started_utc": self.started, "finished_utc": utc_now(), "suite_source": self.suite.source,
            "count_only": self.options.count_only, "hash": self.options.hash, "shard": str(self.shard) if self.shard else None,
            "fidelity": self.options.fidelity and not self.options.count_only, "ledger": self.options.ledger,
            **({"shard_scheme": SHARD_SCHEME} if self.shard else {}),
            "resumed_rows": self.work.count, "renyi_alpha": self.options.renyi_alpha,
            **({"sampling": self.sampling.provenance()} if self.sampling else {}), **provenance,
        }
        identities = {t.name: {**t.identity(), "modality": t.modality, "device": t.device} for t in tokenizers}
        return RunResult(suite=self.suite.name, groups=self.groups,
                         datasets={k: {**v.info(), **self.sampling_info(k)} for k, v in self.tallies.items()},
                         tokenizers=identities,
                         provenance=info)


def sample_rounds(run: Run, ds: Dataset, drawn: DatasetDraw | UnitDraw) -> Iterator[Draw]:
    """The draws of a dataset's sample, one per round, whichever engine reads them: one without
    ``--precision``; else each round is read before the next is planned, until every tokenizer's
    95% interval of C on ``ds`` is as narrow as asked or the dataset is exhausted."""
    spec = run.sampling
    if spec is None:
        return
    draw = drawn.first()
    while True:
        yield draw
        drawn.rounds.append(draw.label)
        if spec.precision is None or drawn.exhausted:
            return
        more = _more_needed(run, ds, drawn, spec.precision / 100)
        if more is None:
            return
        draw = drawn.next(draw, *more)


def _more_needed(run: Run, ds: Dataset, drawn: DatasetDraw | UnitDraw,
                 precision: float) -> tuple[int, float | None] | None:
    """None when every tokenizer's interval is narrow enough; else the records (or units) drawn so far and
    the most any tokenizer is projected to need (:meth:`DatasetDraw.observed`)."""
    sampled, most, enough = 0, 0.0, True
    past = run.work.past(ds, drawn)
    for t in run.tokenizers_for(ds):
        m, sampled, population = drawn.observed(run.groups[(ds.name, ds.modality, t.name)].total,
                                                past.get(t.name, Aggregate()), sharded=run.shard is not None)
        width = half_width(m, population=population, sampled=sampled)
        if width is None or width >= precision:
            enough = False
            most = max(most, needed(m, population=population, sampled=sampled, precision=precision) or 0.0)
    return None if enough else (sampled, most or None)


def run_suite(
    suite: Suite,
    *,
    device: str = "auto",
    emit: Callable[[dict[str, Any]], None] | None = None,
    tokenizers: list[Tokenizer] | None = None,
    options: RunOptions = RunOptions(),
    shard: Shard | None = None,
    prior_rows: Iterable[dict[str, Any]] = (),
    emit_ids: Callable[[dict[str, Any]], None] | None = None,
    prior_ids: Iterable[dict[str, Any]] | None = None,
    sampling: SampleSpec | None = None,
) -> RunResult:
    """Measure every dataset with every tokenizer of its modality; ``emit`` receives each new result row.

    ``tokenizers`` may be passed already built (so configuration errors surface before any output is written).
    ``shard`` restricts the run to one shard; ``prior_rows`` are results already written (resume);
    ``sampling`` measures a random sample of each dataset instead of all of it.
    ``emit_ids`` and ``prior_ids``: the token-id counts of new and earlier rows (see :class:`Run`).
    """
    if tokenizers is None:
        tokenizers = build_tokenizers(suite.tokenizers, device=device, base=suite.base)
    set_measures(tokenizers, options)
    run = Run(suite, tokenizers, options=options, shard=shard, prior_rows=prior_rows, emit=emit,
              emit_ids=emit_ids, prior_ids=prior_ids, sampling=sampling)
    units = {ds.name: run.units(ds) for ds in suite.datasets}  # listed up front: a missing back-end stops the run before any sample
    refuse_uncounted(sampling, units.values())
    with (_progress(sum(run.expected(u) for u in units.values())) as bar,
          WorkerPool(options.workers, in_process=options.in_process) as pool):
        for ds in suite.datasets:
            mine = run.tokenizers_for(ds)
            for records in run.draws(ds, units[ds.name]):
                needed = _needed(ds, records, run, run.tallies[ds.name], mine, bar)
                _measure(run, ds, needed, pool, bar, by_unit=sampling is not None and sampling.sample_by == "unit")
    return run.result(engine="local", workers=options.workers)


def _measure(run: Run, ds: Dataset, needed: Iterator[Record], pool: WorkerPool, bar: Any, *, by_unit: bool) -> None:
    """Measure ``needed`` into ``run``: in batches in this process, or, past a text dataset's first
    ``text_in_process_bytes``, in the workers (:mod:`compressbench.textjobs`) when there are several and
    each can build the dataset's tokenizers."""
    limit = text_in_process_limit(run.options) if ds.modality == "text" and textjobs.shareable(ds) else None
    recipes = textjobs.recipes(run.tokenizers_for(ds)) if limit is not None else None
    if limit is None or recipes is None:
        _measure_here(run, ds, needed, pool, bar, by_unit=by_unit)
        return
    read = [0]  # text bytes read in this process so far
    first = iter(lambda: next(needed, None) if read[0] < limit else None, None)
    _measure_here(run, ds, first, pool, bar, by_unit=by_unit, read=read)
    _measure_in_workers(run, ds, needed, pool, bar, recipes, by_unit=by_unit)


def text_in_process_limit(options: RunOptions) -> int | None:
    """The text bytes of a dataset tokenized in this process before the rest goes to the workers; None
    when all of it stays here (one worker, ``in_process``, or by default fewer than
    :data:`TEXT_WORKERS_FROM` workers).

    >>> text_in_process_limit(RunOptions(workers=8)) == TEXT_IN_PROCESS_BYTES
    True
    >>> text_in_process_limit(RunOptions(workers=2)), text_in_process_limit(RunOptions(workers=2, text_in_process_bytes=0))
    (None, 0)
    """
    if options.workers < 2 or options.in_process:
        return None
    if options.text_in_process_bytes is not None:
        return options.text_in_process_bytes
    return TEXT_IN_PROCESS_BYTES if options.workers >= TEXT_WORKERS_FROM else None


def _measure_here(run: Run, ds: Dataset, needed: Iterator[Record], pool: WorkerPool, bar: Any, *, by_unit: bool,
                  read: list[int] | None = None) -> None:
    """Batches tokenized in this process (media decoded in the workers); ``read[0]`` counts the bytes read."""
    options, mine = run.options, run.tokenizers_for(ds)
    samples = _samples(ds, needed, run.tallies[ds.name], options, pool, bar, by_unit=by_unit)
    if read is not None:
        samples = _counting(samples, read)
    # text is read here, between the calls of measure_batches: while the batches before it are encoded
    batches = batched(samples, options.batch_size or default_batch_size(ds.modality))

    def done(t: Tokenizer, s: Sample) -> bool:  # measured before a resume
        return run.work.has(ds.name, t.name, s.id)

    for rows in measure_batches(mine, batches, done=done, ahead=batches_in_flight(ds.modality)):
        for m in rows:
            run.add(m)


def _counting(samples: Iterator[Sample], read: list[int]) -> Iterator[Sample]:
    for sample in samples:
        read[0] += sample.file_bytes or 0
        yield sample


def _measure_in_workers(run: Run, ds: Dataset, needed: Iterator[Record], pool: WorkerPool, bar: Any,
                        recipes: bytes, *, by_unit: bool) -> None:
    """Text read, hashed, tokenized and added up in the workers; here the results are merged and sent."""
    options, mine = run.options, run.tokenizers_for(ds)
    names = [t.name for t in mine]
    template = textjobs.TextJob(key=",".join(names), recipes=recipes, options=options, dataset=ds,
                                records=[], pending=[], by_unit=by_unit, counts=textjobs.declared_counts(mine))
    pending = ((r, tuple(i for i, name in enumerate(names) if not run.work.has(ds.name, name, r.id)))
               for r in needed)
    crashed = _crashed(ds, "worker crashed", "reading and tokenizing")
    size = options.batch_size or default_batch_size(ds.modality)
    for result in textjobs.measured(pool, template, pending, size, mine, crashed):
        for sample_id, digest in result.digests:
            run.tallies[ds.name].content.add(sample_id, digest)
            bar.update(1)
        run.absorb(ds, result.groups)
        for m in result.rows:
            run.send(m)
