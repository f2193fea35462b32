"""The Ray engine: the same suite on a Ray cluster, with Ray Data.

The reading units (loose files, Parquet row groups, tar shards…) of every
dataset become one Ray Dataset of packages (a batch of a dataset's loose files,
or one container); actors (one per ``--workers``, each with a GPU when the
run's tensor tokenizers want one and the cluster has them) read their packages'
records, decode them in parallel and measure them with every tokenizer of the
modality, via ``map_batches``. An actor builds a dataset's tokenizers the first
time it meets the dataset, so a run starts its actors once (once per sampling
round with ``--precision``; datasets whose tokenizers want a GPU and those that
do not get a pipeline each), not once per dataset. Rows stream back to the
driver in order: the summary and report equal the local engine's, and
results.jsonl holds the same rows (timing apart), ordered by Ray's batches.

Install with ``pip install 'compressbench[ray]'``; point at a cluster with
``--address ray://HEAD:10001`` (or ``auto`` on a cluster node). Every node needs
compressbench installed and the data at the same paths (a shared file system) or URLs
it can reach (s3://, gs://, hf://, https://).
"""

from __future__ import annotations

import json
import logging
import sys
from functools import partial
from pathlib import Path
from collections.abc import Iterable, Iterator
from typing import Any

from compressbench.adapters.base import Tokenizer
from compressbench.core.backends import import_backend
from compressbench.core.errors import ConfigError
from compressbench.core.sample import Measurement
from compressbench.data.discover import Found
from compressbench.data.modalities import default_batch_size
from compressbench.data import reading
from compressbench.data.formats.base import Record, Unit
from compressbench.data.clusters import UnitDraw, refuse_uncounted, with_unit
from compressbench.data.sampling import SampleSpec, dataset_draw, key
from compressbench.data.suite import Dataset, Suite
from compressbench.measure import batched, load_sample, measure_batch
from compressbench.results import RunResult
from compressbench.runner import Run, RunOptions, Shard, build_tokenizers, sample_rounds, set_measures


class _Measurer:
    """A Ray actor: reads, decodes and measures packages of reading units (loose files, or containers of
    records read record by record, in batches) of any dataset of the suite. It builds a dataset's
    tokenizers (``specs``: each dataset's specs, by name) when its first package comes and holds one set
    at a time, as the packages come grouped by set (:func:`_by_tokenizers`)."""

    def __init__(self, suite: Suite, specs: dict[str, list[str]], device: str, options: RunOptions) -> None:
        self.suite, self.specs, self.device, self.options = suite, specs, device, options
        self.datasets = {ds.name: ds for ds in suite.datasets}
        self.built: tuple[list[str], list[Tokenizer]] = ([], [])

    def tokenizers(self, ds: Dataset) -> list[Tokenizer]:
        if self.built[0] != self.specs[ds.name]:
            self.built = ([], [])  # the last set goes before the next is built: one set in memory
            try:
                tokenizers = build_tokenizers(self.specs[ds.name], device=self.device, base=self.suite.base)
            except (ConfigError, OSError, ImportError) as exc:  # the driver built them: this node lacks something
                why = " ".join(str(exc).split()) or type(exc).__name__  # one line
                raise _BuildFailed(f"dataset {ds.name!r}: its tokenizers do not build on a Ray worker ({why}); "
                                   "every node needs compressbench, the tokenizers' packages and their files "
                                   "at the same paths as the driver") from None
            set_measures(tokenizers, self.options)
            self.built = (self.specs[ds.name], tokenizers)
        return self.built[1]

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        try:
            measured = [m for name, units in zip(batch["dataset"], batch["units"])
                        for m in self.measure(self.datasets[str(name)], json.loads(units))]
        except _BuildFailed as exc:  # one record that says so: Ray would hand the driver a traceback
            return {"row": np.array([""], dtype=object), "ids": np.array([""], dtype=object),
                    "failed": np.array([str(exc)], dtype=object)}
        rows = [json.dumps(m.to_row(), ensure_ascii=False) for m in measured]
        ids = ["" if m.token_ids is None else json.dumps(sorted(m.token_ids.items())) for m in measured]
        return {"row": np.array(rows, dtype=object), "ids": np.array(ids, dtype=object),
                "failed": np.array([""] * len(rows), dtype=object)}

    def measure(self, ds: Dataset, items: list[dict[str, Any]]) -> list[Measurement]:
        """One package's measurements: its samples in batches, each measured by every tokenizer in turn."""
        options, tokenizers = self.options, self.tokenizers(ds)
        load = partial(load_sample, ds, count_only=options.count_only, max_file_bytes=options.max_file_bytes,
                       hash_mode=options.hash)
        samples = (with_unit(load, r) if _whole(item) else load(r)
                   for item in items for r in _records(ds, item, options.max_file_bytes))
        return [m for chunk in batched(samples, options.batch_size or default_batch_size(ds.modality))
                for t in tokenizers for m in measure_batch(t, chunk)]


class _BuildFailed(Exception):
    """A dataset's tokenizers would not build on an actor; the message says why, in one line."""


def _item(unit: Unit, draw: dict[str, Any] | None = None) -> dict[str, Any]:
    """A reading unit as plain values (a package of them travels as JSON); ``draw`` says which of its
    records a sampled run reads."""
    s = unit.source
    return {"id": s.id, "path": str(s.path) if s.path else "", "error": s.error or "", "url": s.url or "",
            "format": unit.format, "part": -1 if unit.part is None else unit.part, "first": unit.first,
            "draw": draw}


def _whole(item: dict[str, Any]) -> bool:
    """Whether the item is a unit drawn whole (``--sample-by unit``): its rows name it."""
    return bool(item["draw"]) and item["draw"].get("whole", False)


def _records(ds: Dataset, item: dict[str, Any], max_bytes: int) -> Iterator[Record]:
    """A unit's records, or with a draw, its sampled ones: listed ids, or a stream's keys in [low, high)
    (all of them for a unit drawn whole)."""
    unit, draw = _unit(item), item["draw"]
    if draw is None or draw.get("whole"):
        return reading.records(ds, unit, max_bytes=max_bytes)
    if draw["ids"] is not None:
        return reading.records(ds, unit, max_bytes=max_bytes, keep=set(draw["ids"]).__contains__)
    return (r for r in reading.records(ds, unit, max_bytes=max_bytes)
            if draw["low"] <= key(draw["seed"], r.id) < draw["high"])


def _unit(item: dict[str, Any]) -> Unit:
    source = Found(str(item["id"]), Path(item["path"]) if item["path"] else None, item["error"] or None,
                   item["url"] or None)
    part = int(item["part"])
    return Unit(source, str(item["format"]), None if part < 0 else part, int(item["first"]))


def _init(address: str | None) -> Any:
    ray = import_backend("ray", purpose="--engine ray")
    import_backend("ray.data", purpose="--engine ray")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # rows in the local engine's order: deterministic output
    context.enable_progress_bars = sys.stderr.isatty()
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return ray


def _rounds(run: Run, ds: Dataset, units: list[Unit]) -> Iterator[list[dict[str, Any]]]:
    """The Ray Dataset items of each round: this run's units, with what a sampled run reads of them
    (the driver finds each round's key range; actors read only the records in it)."""
    mine = run.mine(units)
    spec = run.sampling
    if spec is None:
        yield [_item(u) for u in mine]
        return
    max_bytes = run.options.max_file_bytes
    drawn = run.drawn[ds.name] = dataset_draw(
        spec, units, mine=lambda u: run.shard is None or run.shard.owns_unit(u),
        read=lambda u, keep: reading.records(ds, u, max_bytes=max_bytes, keep=keep))
    for draw in sample_rounds(run, ds, drawn):
        low, high = drawn.bounds(draw)
        if isinstance(drawn, UnitDraw):  # whole units: found from their keys, read by the actors
            yield [_item(u, {"whole": True}) for u in drawn.drawn(low, high)]
            continue
        items = []
        for u in mine:
            ids = drawn.chosen(u, low, high)
            if ids is None or ids:
                items.append(_item(u, {"seed": spec.seed, "low": low, "high": high,
                                       "ids": None if ids is None else sorted(ids)}))
        yield items


def _phases(run: Run, datasets: list[Dataset]) -> Iterator[list[tuple[Dataset, list[dict[str, Any]]]]]:
    """The datasets' rounds side by side, each phase measured by one pipeline: every dataset's first
    round, then the second rounds of those that need another (``--precision``), and so on. A dataset's
    next round is planned only when the phase before is measured (the generator resumes then)."""
    rounds = [(ds, _rounds(run, ds, run.units(ds))) for ds in datasets]  # the shard's units, as the local engine's
    while rounds:
        phase = [(ds, r, next(r, None)) for ds, r in rounds]
        rounds = [(ds, r) for ds, r, items in phase if items is not None]
        if any(items for _, _, items in phase):
            yield [(ds, items) for ds, _, items in phase if items]


def _by_tokenizers(datasets: list[Dataset], specs: dict[str, list[str]]) -> list[Dataset]:
    """The datasets in suite order, those with the same tokenizers (the same modality) together: an actor
    then builds each set once.

    >>> from types import SimpleNamespace as D
    >>> names = _by_tokenizers([D(name="a"), D(name="b"), D(name="c")], {"a": ["bytes"], "b": ["vit"], "c": ["bytes"]})
    >>> [d.name for d in names]
    ['a', 'c', 'b']
    """
    first = {}
    for ds in datasets:
        first.setdefault(tuple(specs[ds.name]), len(first))
    return sorted(datasets, key=lambda ds: first[tuple(specs[ds.name])])


def _packages(ds: Dataset, items: list[dict[str, Any]], options: RunOptions) -> list[dict[str, Any]]:
    """A dataset's items as rows of the pipeline: its loose files a batch at a time (the local engine's
    batches), else each unit alone (a container's records are batched as they are read)."""
    loose = all(reading.is_loose(_unit(i)) for i in items)
    size = (options.batch_size or default_batch_size(ds.modality)) if loose else 1
    return [{"dataset": ds.name, "units": json.dumps(items[k:k + size])} for k in range(0, len(items), size)]


def _measure(ray: Any, run: Run, suite: Suite, phase: list[tuple[Dataset, list[dict[str, Any]]]],
             specs: dict[str, list[str]], *, device: str, gpus: int) -> None:
    """Read and measure the phase's items (units of several datasets) on the cluster, in one pipeline;
    rows come back in order into ``run``. ``gpus``: the cluster's GPUs, one an actor (0: CPU actors), so
    that no actor waits for a GPU that is not there."""
    packages = [p for ds, items in phase for p in _packages(ds, items, run.options)]
    actors = min(run.options.workers, len(packages), gpus or len(packages))
    rows = ray.data.from_items(packages).map_batches(
        _Measurer, fn_constructor_args=(suite, specs, device, run.options), batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=max(1, actors)), num_gpus=1 if gpus else 0,
    )
    _take(run, rows.iter_rows(), {ds.name: run.tokenizers_for(ds)[0].name for ds, _ in phase})


def _take(run: Run, records: Iterable[dict[str, Any]], first: dict[str, str]) -> None:
    """The actors' rows (``records``: each a row and its token-id counts, as JSON, or why an actor could not
    build a dataset's tokenizers, raised here as a :class:`ConfigError`) counted into ``run``. A
    sample has one row of each of its dataset's tokenizers: it enters the dataset's tally with its row of
    the ``first`` (by dataset), so that no set of sample ids grows with the corpus."""
    for record in records:
        if record.get("failed"):
            raise ConfigError(record["failed"])
        row = json.loads(record["row"])
        if row["tokenizer"] == first[row["dataset"]]:
            run.tallies[row["dataset"]].content.add(row["sample"], row.get("file_sha256") or "")
            drawn = run.drawn.get(row["dataset"])
            if isinstance(drawn, UnitDraw):
                drawn.seen(row["unit"])  # the population counts the records of streams read
        m = Measurement.from_row(row)
        if record["ids"]:
            m.token_ids = dict(json.loads(record["ids"]))
        run.add(m)


def run_suite_ray(suite: Suite, *, device: str = "auto", emit: Any = None, options: RunOptions = RunOptions(),
                  shard: Shard | None = None, address: str | None = None,
                  sampling: SampleSpec | None = None, emit_ids: Any = None,
                  tokenizers: list[Tokenizer] | None = None) -> RunResult:
    """Like :func:`compressbench.runner.run_suite`, executed by Ray Data actors; ``tokenizers``, the suite's
    built on the CPU (they validate the specs and give the identities), may be passed already built."""
    if tokenizers is None:
        tokenizers = build_tokenizers(suite.tokenizers, device="cpu", base=suite.base)
    run = Run(suite, tokenizers, options=options, shard=shard, prior_rows=(), emit=emit, emit_ids=emit_ids,
              sampling=sampling)
    pairs = list(zip(suite.tokenizers, tokenizers))  # actors rebuild from the specs as written (vocab=, download=)
    specs = {ds.name: [spec for spec, t in pairs if t in run.tokenizers_for(ds)] for ds in suite.datasets}
    refuse_uncounted(sampling, [run.units(ds) for ds in suite.datasets])  # before Ray starts
    ray = _init(address)
    gpus = ray.cluster_resources().get("GPU", 0)
    on_gpu = {ds.name: device != "cpu" and gpus > 0 and any(t.uses_torch for t in run.tokenizers_for(ds))
              for ds in suite.datasets}
    for phase in _phases(run, _by_tokenizers(suite.datasets, specs)):
        for gpu in dict.fromkeys(on_gpu[ds.name] for ds, _ in phase):  # GPU actors only where they are needed
            _measure(ray, run, suite, [(ds, items) for ds, items in phase if on_gpu[ds.name] == gpu], specs,
                     device=device, gpus=max(1, int(gpus)) if gpu else 0)
    for t in tokenizers:  # the driver built them on the CPU; say where the actors ran them
        t.device = "cuda" if (device != "cpu" and gpus > 0 and t.uses_torch) else "cpu"
    return run.result(engine="ray", ray_address=address or "local", workers=options.workers)
