"""The Ray engine: the same suite on a Ray cluster, with Ray Data.

Each dataset's reading units (loose files, Parquet row groups, tar shards…)
become a Ray Dataset; actors (one per ``--workers``,
each with a GPU when the run's tensor tokenizers want one and the cluster has
them) read their units' records, decode them in parallel and measure them with every
tokenizer of the modality, via ``map_batches``. Rows stream back to the driver
in order: the summary and report equal the local engine's, and results.jsonl
holds the same rows (timing apart), ordered by Ray's batches.

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
from collections.abc import Iterator
from typing import Any

from compressbench.core.backends import import_backend
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
    """A Ray actor: builds the dataset's tokenizers once, then reads, decodes and measures reading units
    (loose files, or containers of records read record by record, in batches)."""

    def __init__(self, suite: Suite, dataset: Dataset, specs: list[str], device: str, options: RunOptions) -> None:
        self.dataset, self.options = dataset, options
        self.tokenizers = build_tokenizers(specs, device=device, base=suite.base)
        set_measures(self.tokenizers, options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        ds, options = self.dataset, self.options
        load = partial(load_sample, ds, count_only=options.count_only, max_file_bytes=options.max_file_bytes,
                       hash_mode=options.hash)
        samples = (with_unit(load, r) if _whole(item) else load(r)
                   for item in _items(batch) for r in _records(ds, item, options.max_file_bytes))
        measured = [m for chunk in batched(samples, options.batch_size or default_batch_size(ds.modality))
                    for t in self.tokenizers for m in measure_batch(t, chunk)]
        rows = [json.dumps(m.to_row(), ensure_ascii=False) for m in measured]
        ids = ["" if m.token_ids is None else json.dumps(sorted(m.token_ids.items())) for m in measured]
        return {"row": np.array(rows, dtype=object), "ids": np.array(ids, dtype=object)}


_UNIT_KEYS = ("id", "path", "error", "url", "format", "part", "first", "draw")


def _item(unit: Unit, draw: dict[str, Any] | None = None) -> dict[str, Any]:
    """A reading unit as a row of a Ray Dataset (plain values: the schema travels with the batch);
    ``draw`` (JSON) says which of its records a sampled run reads."""
    s = unit.source
    return {"id": s.id, "path": str(s.path) if s.path else "", "error": s.error or "", "url": s.url or "",
            "format": unit.format, "part": -1 if unit.part is None else unit.part, "first": unit.first,
            "draw": json.dumps(draw) if draw else ""}


def _whole(item: dict[str, Any]) -> bool:
    """Whether the item is a unit drawn whole (``--sample-by unit``): its rows name it."""
    return bool(item["draw"]) and json.loads(item["draw"]).get("whole", False)


def _records(ds: Dataset, item: dict[str, Any], max_bytes: int) -> Iterator[Record]:
    """A unit's records, or with a draw, its sampled ones: listed ids, or a stream's keys in [low, high)
    (all of them for a unit drawn whole)."""
    unit, draw = _unit(item), json.loads(item["draw"]) if item["draw"] else None
    if draw is None or draw.get("whole"):
        return reading.records(ds, unit, max_bytes=max_bytes)
    if draw["ids"] is not None:
        return reading.records(ds, unit, max_bytes=max_bytes, keep=set(draw["ids"]).__contains__)
    return (r for r in reading.records(ds, unit, max_bytes=max_bytes)
            if draw["low"] <= key(draw["seed"], r.id) < draw["high"])


def _items(batch: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(_UNIT_KEYS, values)) for values in zip(*(batch[k] for k in _UNIT_KEYS))]


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


def _measure(ray: Any, run: Run, suite: Suite, ds: Dataset, items: list[dict[str, Any]], specs: list[str], *,
             device: str, wants_gpu: bool) -> None:
    """Read and measure ``items`` (units) on the cluster; rows come back in order into ``run``."""
    options = run.options
    loose = all(reading.is_loose(_unit(i)) for i in items)
    rows = ray.data.from_items(items).map_batches(
        _Measurer, fn_constructor_args=(suite, ds, specs, device, options),
        batch_size=(options.batch_size or default_batch_size(ds.modality)) if loose else 1,
        concurrency=max(1, min(options.workers, len(items))),
        num_gpus=1 if wants_gpu else 0,
    )
    seen: set[str] = set()
    drawn = run.drawn.get(ds.name)
    for record in rows.iter_rows():
        row = json.loads(record["row"])
        if row["sample"] not in seen:
            seen.add(row["sample"])
            run.tallies[ds.name].content.add(row["sample"], row.get("file_sha256") or "")
            if isinstance(drawn, UnitDraw):
                drawn.seen(row["unit"])  # the population counts the records of streams read
        m = Measurement.from_row(row)
        if record["ids"]:
            m.token_ids = dict(json.loads(record["ids"]))
        run.add(m)


def run_suite_ray(suite: Suite, *, device: str = "auto", emit: Any = None, options: RunOptions = RunOptions(),
                  shard: Shard | None = None, address: str | None = None,
                  sampling: SampleSpec | None = None, emit_ids: Any = None) -> RunResult:
    """Like :func:`compressbench.runner.run_suite`, executed by Ray Data actors."""
    tokenizers = build_tokenizers(suite.tokenizers, device="cpu", base=suite.base)  # validates, gives identities
    run = Run(suite, tokenizers, options=options, shard=shard, prior_rows=(), emit=emit, emit_ids=emit_ids,
              sampling=sampling)
    specs = list(zip(suite.tokenizers, tokenizers))  # actors rebuild from the specs as written (vocab=, download=)
    refuse_uncounted(sampling, [run.units(ds) for ds in suite.datasets])  # before Ray starts
    ray = _init(address)
    gpus = ray.cluster_resources().get("GPU", 0)
    for ds in suite.datasets:
        mine = run.tokenizers_for(ds)
        for items in _rounds(run, ds, run.units(ds)):  # the shard's units, as the local engine's
            if items:
                _measure(ray, run, suite, ds, items, [spec for spec, t in specs if t in mine], device=device,
                         wants_gpu=device != "cpu" and gpus > 0 and any(t.uses_torch for t in mine))
    for t in tokenizers:  # the driver built them on the CPU; say where the actors ran them
        t.device = "cuda" if (device != "cpu" and gpus > 0 and t.uses_torch) else "cpu"
    return run.result(engine="ray", ray_address=address or "local", workers=options.workers)
