"""The Ray engine: the same suite on a Ray cluster, with Ray Data.

Each dataset's sample list becomes a Ray Dataset; actors (one per ``--workers``,
each with a GPU when the run's tensor tokenizers want one and the cluster has
them) read and decode their samples in parallel and measure them with every
tokenizer of the modality, via ``map_batches``. Rows stream back to the driver
in order: the summary and report equal the local engine's, and results.jsonl
holds the same rows (timing apart), ordered by Ray's batches.

Install with ``pip install 'compressbench[ray]'``; point at a cluster with
``--address ray://HEAD:10001`` (or ``auto`` on a cluster node). Every node needs
compressbench installed and the data at the same paths (a shared file system).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from compressbench.core.errors import ConfigError
from compressbench.core.sample import Measurement
from compressbench.data.discover import Found
from compressbench.data.modalities import default_batch_size
from compressbench.data.reading import file_record, is_loose
from compressbench.data.suite import Dataset, Suite
from compressbench.measure import load_sample, measure_batch
from compressbench.results import RunResult
from compressbench.runner import Run, RunOptions, Shard, build_tokenizers


class _Measurer:
    """A Ray actor: builds the dataset's tokenizers once, then decodes and measures batches of samples."""

    def __init__(self, suite: Suite, dataset: Dataset, specs: list[str], device: str, options: RunOptions) -> None:
        self.dataset, self.options = dataset, options
        self.tokenizers = build_tokenizers(specs, device=device, base=suite.base)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        entries = [file_record(Found(i, Path(p) if p else None, e or None, u or None))
                   for i, p, e, u in zip(batch["id"], batch["path"], batch["error"], batch["url"])]
        samples = [load_sample(self.dataset, e, count_only=self.options.count_only,
                               max_file_bytes=self.options.max_file_bytes) for e in entries]
        rows = [json.dumps(m.to_row(), ensure_ascii=False) for t in self.tokenizers for m in measure_batch(t, samples)]
        return {"row": np.array(rows, dtype=object)}


def _init(address: str | None) -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError("--engine ray needs Ray Data: pip install 'compressbench[ray]'") from None
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
        units = run.units(ds)
        if not all(is_loose(u) for u in units):
            raise ConfigError(f"dataset {ds.name!r}: --engine ray reads loose files only, not records in "
                              f"containers ({', '.join(sorted({u.format for u in units if not is_loose(u)}))}); "
                              f"use --engine local, split with --shard")
        found = [u.source for u in units if shard is None or shard.owns(u.source.id)]
        if not found:
            continue
        wants_gpu = device != "cpu" and gpus > 0 and any(t.uses_torch for t in mine)
        items = [{"id": f.id, "path": str(f.path) if f.path else "", "error": f.error or "", "url": f.url or ""}
                 for f in found]
        rows = ray.data.from_items(items).map_batches(
            _Measurer, fn_constructor_args=(suite, ds, [spec for spec, t in specs if t in mine], device, options),
            batch_size=options.batch_size or default_batch_size(ds.modality), concurrency=max(1, min(options.workers, len(found))),
            num_gpus=1 if wants_gpu else 0,
        )
        seen: set[str] = set()
        for record in rows.iter_rows():
            row = json.loads(record["row"])
            if row["sample"] not in seen:
                seen.add(row["sample"])
                run.tallies[ds.name].content.add(row["sample"], row["file_sha256"])
            run.add(Measurement.from_row(row))
    for t in tokenizers:  # the driver built them on the CPU; say where the actors ran them
        t.device = "cuda" if (device != "cpu" and gpus > 0 and t.uses_torch) else "cpu"
    return run.result(engine="ray", ray_address=address or "local", workers=options.workers)
