"""Running a suite: decode each sample once, measure it with every tokenizer of its modality.

Results stream out row by row (one bad sample becomes an error row and the run
goes on); aggregates accumulate per dataset x modality x tokenizer and per language.

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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compressbench.adapters.base import Tokenizer
from compressbench.core.aggregate import Aggregate
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.registry import get_tokenizer
from compressbench.core.sample import Measurement, Sample, TokenCount
from compressbench.data.discover import Found, discover
from compressbench.data.modalities import decoder_for, default_batch_size, probe_for
from compressbench.data.suite import Dataset, Suite
from compressbench.provenance import library_versions, machine, utc_now


@dataclass
class Group:
    """The aggregates of one dataset x modality x tokenizer: all samples, and per language."""

    total: Aggregate = field(default_factory=Aggregate)
    languages: dict[str, Aggregate] = field(default_factory=dict)

    def add(self, m: Measurement) -> None:
        self.total.add(m)
        if m.language is not None:
            self.languages.setdefault(m.language, Aggregate()).add(m)


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


def build_tokenizers(specs: tuple[str, ...] | list[str], *, device: str, base: Path) -> list[Tokenizer]:
    """Every tokenizer of a suite, built before any sample is read (config errors stop the run early)."""
    tokenizers = [get_tokenizer(spec, device=device, base=base) for spec in specs]
    names = [t.name for t in tokenizers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"tokenizer(s) listed twice: {', '.join(duplicates)}")
    return tokenizers


def load_sample(dataset: Dataset, found: Found, *, count_only: bool = False) -> tuple[Sample, str]:
    """Read and decode one file; any failure is the sample's error. Also returns the file's sha256.

    With ``count_only`` a modality that has a probe reads only its header (shape, duration) and
    leaves the payload empty; its tokenizers then count from that metadata.
    """
    sample = Sample(dataset=dataset.name, modality=dataset.modality, id=found.id, path=found.path,
                    language=dataset.language_of(found.path) if found.path else None)
    if found.error is not None:
        sample.error = found.error
        return sample, "missing"
    assert found.path is not None  # discover() gives a path whenever there is no error
    try:
        data = found.path.read_bytes()
    except OSError as exc:
        sample.error = f"{found.id}: cannot read ({exc.strerror or exc})"
        return sample, "unreadable"
    sample.file_bytes = len(data)
    probe = probe_for(dataset.modality) if count_only else None
    start = time.perf_counter()
    try:
        decoded = (probe or decoder_for(dataset.modality))(data, **dataset.options)
    except SampleError as exc:
        sample.error = f"{found.id}: {exc}"
    except Exception as exc:  # a decoder library's own failure on one file must not stop the run
        sample.error = f"{found.id}: cannot decode ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    else:
        sample.payload, sample.raw_bytes, sample.meta = decoded.payload, decoded.raw_bytes, decoded.meta
        if probe is not None:
            sample.probed = True
            sample.meta = {**sample.meta, "counted_from": "header"}
    sample.decode_seconds = time.perf_counter() - start
    return sample, hashlib.sha256(data).hexdigest()


def _row(tokenizer: Tokenizer, sample: Sample) -> Measurement:
    """The measurement of ``sample`` before tokenizing: identity, sizes and any decode error."""
    return Measurement(
        dataset=sample.dataset, modality=sample.modality, tokenizer=tokenizer.name, sample=sample.id,
        raw_bytes=sample.raw_bytes, input_bytes=None, file_bytes=sample.file_bytes, tokens=None,
        seconds=None, decode_seconds=sample.decode_seconds, language=sample.language, error=sample.error,
        meta=dict(sample.meta),
    )


def _record(m: Measurement, tokenizer: Tokenizer, result: TokenCount | SampleError, seconds: float) -> None:
    """Fill a measurement with a tokenizer's result or its error."""
    m.seconds = seconds
    if isinstance(result, SampleError):
        m.error = f"{m.sample}: {tokenizer.name}: {result}"
    elif result.tokens == 0:
        m.error = f"{m.sample}: {tokenizer.name} produced no tokens (C undefined)"
    else:
        m.tokens, m.input_bytes, m.counts = result.tokens, result.input_bytes, dict(result.counts)


def _count(tokenizer: Tokenizer, payloads: list[Any]) -> tuple[list[TokenCount | SampleError], float]:
    """Tokenize a batch, timed with the device synchronised; a back-end exception fails the whole call."""
    start = time.perf_counter()
    results = tokenizer.count_batch(payloads)
    tokenizer.synchronize()
    return results, time.perf_counter() - start


def _guarded(tokenizer: Tokenizer, sample: Sample) -> tuple[TokenCount | SampleError, float]:
    """One sample (or its probed metadata); a back-end bug on it becomes its error, not a stopped run."""
    try:
        if sample.probed:
            start = time.perf_counter()
            return tokenizer.count_from_meta(sample.meta), time.perf_counter() - start
        results, seconds = _count(tokenizer, [sample.payload])
        return results[0], seconds
    except SampleError as exc:
        return exc, 0.0
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        return SampleError(f"{type(exc).__name__}: {first}"), 0.0


def measure_batch(tokenizer: Tokenizer, samples: list[Sample]) -> list[Measurement]:
    """Measure samples with one tokenizer, batching the tensor work when the adapter batches.

    Adapters that do not override ``count_batch`` are timed sample by sample. A
    batched call's time is shared among its samples in proportion to their raw
    bytes; if the batch raises, each sample is retried alone so only the bad one fails.
    """
    rows = [_row(tokenizer, s) for s in samples]
    todo = [(m, s) for m, s in zip(rows, samples) if s.error is None]
    batches = type(tokenizer).count_batch is not Tokenizer.count_batch and len(todo) > 1
    batches = batches and not any(s.probed for _, s in todo)
    if batches:
        try:
            results, seconds = _count(tokenizer, [s.payload for _, s in todo])
        except Exception:
            batches = False
        else:
            total = sum(s.raw_bytes for _, s in todo) or 1
            for (m, s), result in zip(todo, results):
                _record(m, tokenizer, result, seconds * s.raw_bytes / total)
    if not batches:
        for m, s in todo:
            result, seconds = _guarded(tokenizer, s)
            _record(m, tokenizer, result, seconds)
    return rows


def measure(tokenizer: Tokenizer, sample: Sample) -> Measurement:
    """One sample under one tokenizer; a tokenizer failure becomes the row's error."""
    return measure_batch(tokenizer, [sample])[0]


def batched(items: Iterator[Sample], size: int) -> Iterator[list[Sample]]:
    """Consecutive lists of at most ``size`` samples (only one batch is held at a time)."""
    batch: list[Sample] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _progress(total: int) -> Any:
    """A progress bar on stderr for runs longer than a second; none when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, unit="sample", file=sys.stderr, delay=1.0, disable=not sys.stderr.isatty())


def iter_samples(dataset: Dataset, found: list[Found], hasher: Any, *, count_only: bool = False) -> Iterator[Sample]:
    """Load the found files one at a time (the corpus is never held whole), feeding the content hash."""
    for entry in found:
        sample, digest = load_sample(dataset, entry, count_only=count_only)
        hasher.update(f"{entry.id}\0{digest}\n".encode())
        yield sample


def run_suite(
    suite: Suite,
    *,
    device: str = "auto",
    emit: Callable[[dict[str, Any]], None] | None = None,
    tokenizers: list[Tokenizer] | None = None,
    batch_size: int | None = None,
    count_only: bool = False,
) -> RunResult:
    """Measure every dataset with every tokenizer of its modality; ``emit`` receives each result row.

    ``tokenizers`` may be passed already built (so configuration errors surface before any output is written).
    ``batch_size`` samples are decoded and handed to each tokenizer together (default: per modality).
    ``count_only`` reads only headers where a modality can (N from shapes); text is still read whole.
    """
    started = utc_now()
    if tokenizers is None:
        tokenizers = build_tokenizers(suite.tokenizers, device=device, base=suite.base)
    groups: dict[tuple[str, str, str], Group] = {}
    datasets: dict[str, dict[str, Any]] = {}
    found = {ds.name: discover(list(ds.paths), base=ds.base) for ds in suite.datasets}
    with _progress(sum(len(f) for f in found.values())) as bar:
        for ds in suite.datasets:
            mine = [t for t in tokenizers if t.modality == ds.modality]
            for t in mine:
                groups[(ds.name, ds.modality, t.name)] = Group()
            hasher = hashlib.sha256()
            for batch in batched(iter_samples(ds, found[ds.name], hasher, count_only=count_only), batch_size or default_batch_size(ds.modality)):
                for t in mine:
                    for m in measure_batch(t, batch):
                        groups[(ds.name, ds.modality, t.name)].add(m)
                        if emit is not None:
                            emit(m.to_row())
                bar.update(len(batch))
            datasets[ds.name] = {
                "modality": ds.modality, "samples": len(found[ds.name]), "paths": list(ds.paths),
                "content_sha256": hasher.hexdigest(), "reference_language": ds.reference_language,
            }
    devices = sorted({t.device for t in tokenizers})
    provenance = {
        "versions": library_versions(), "machine": machine(), "device": ",".join(devices),
        "started_utc": started, "finished_utc": utc_now(), "suite_source": suite.source,
        "count_only": count_only,
    }
    identities = {t.name: {**t.identity(), "modality": t.modality, "device": t.device} for t in tokenizers}
    return RunResult(suite=suite.name, groups=groups, datasets=datasets, tokenizers=identities, provenance=provenance)
