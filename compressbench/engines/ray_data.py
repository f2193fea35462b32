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
from pathlib import Path
from typing import Any

from compressbench.core.backends import import_backend
from compressbench.core.sample import Measurement
from compressbench.data.discover import Found
from compressbench.data.modalities import default_batch_size
from compressbench.data import reading
from compressbench.data.formats.base import Unit
from compressbench.data.suite import Dataset, Suite
from compressbench.measure import batched, load_sample, measure_batch
from compressbench.results import RunResult
from compressbench.runner import Run, RunOptions, Shard, build_tokenizers, set_fidelity


class _Measurer:
    """A Ray actor: builds the dataset's tokenizers once, then reads, decodes and measures reading units
    (loose files, or containers of records read record by record, in batches)."""

    def __init__(self, suite: Suite, dataset: Dataset, specs: list[str], device: str, options: RunOptions) -> None:
        self.dataset, self.options = dataset, options
        self.tokenizers = build_tokenizers(specs, device=device, base=suite.base)
        set_fidelity(self.tokenizers, options.fidelity)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        ds, options = self.dataset, self.options
        records = (r for unit in map(_unit, _items(batch))
                   for r in reading.records(ds, unit, max_bytes=options.max_file_bytes))
        samples = (load_sample(ds, r, count_only=options.count_only, max_file_bytes=options.max_file_bytes,
                               hash_mode=options.hash)
                   for r in records)
        rows = [json.dumps(m.to_row(), ensure_ascii=False)
                for chunk in batched(samples, options.batch_size or default_batch_size(ds.modality))
                for t in self.tokenizers for m in measure_batch(t, chunk)]
        return {"row": np.array(rows, dtype=object)}


_UNIT_KEYS = ("id", "path", "error", "url", "format", "part", "first")


def _item(unit: Unit) -> dict[str, Any]:
    """A reading unit as a row of a Ray Dataset (plain values: the schema travels with the batch)."""
    s = unit.source
    return {"id": s.id, "path": str(s.path) if s.path else "", "error": s.error or "", "url": s.url or "",
            "format": unit.format, "part": -1 if unit.part is None else unit.part, "first": unit.first}


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


def run_suite_ray(suite: Suite, *, device: str = "auto", emit: Any = None, options: RunOptions = RunOptions(),
                  shard: Shard | None = None, address: str | None = None) -> RunResult:
    """Like :func:`compressbench.runner.run_suite`, executed by Ray Data actors."""
    tokenizers = build_tokenizers(suite.tokenizers, device="cpu", base=suite.base)  # validates, gives identities
    run = Run(suite, tokenizers, options=options, shard=shard, prior_rows=(), emit=emit)
    specs = list(zip(suite.tokenizers, tokenizers))  # actors rebuild from the specs as written (vocab=, download=)
    ray = _init(address)
    gpus = ray.cluster_resources().get("GPU", 0)
    for ds in suite.datasets:
        mine = run.tokenizers_for(ds)
        units = run.mine(run.units(ds))  # the shard's units, as the local engine's: others are never opened
        if not units:
            continue
        loose = all(reading.is_loose(u) for u in units)
        wants_gpu = device != "cpu" and gpus > 0 and any(t.uses_torch for t in mine)
        rows = ray.data.from_items([_item(u) for u in units]).map_batches(
            _Measurer, fn_constructor_args=(suite, ds, [spec for spec, t in specs if t in mine], device, options),
            batch_size=(options.batch_size or default_batch_size(ds.modality)) if loose else 1,
            concurrency=max(1, min(options.workers, len(units))),
            num_gpus=1 if wants_gpu else 0,
        )
        seen: set[str] = set()
        for record in rows.iter_rows():
            row = json.loads(record["row"])
            if row["sample"] not in seen:
                seen.add(row["sample"])
                run.tallies[ds.name].content.add(row["sample"], row.get("file_sha256") or "")
            run.add(Measurement.from_row(row))
    for t in tokenizers:  # the driver built them on the CPU; say where the actors ran them
        t.device = "cuda" if (device != "cpu" and gpus > 0 and t.uses_torch) else "cpu"
    return run.result(engine="ray", ray_address=address or "local", workers=options.workers)
