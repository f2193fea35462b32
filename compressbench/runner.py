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
from compressbench.core.sample import Measurement, Sample
from compressbench.data.discover import Found, discover
from compressbench.data.modalities import decoder_for
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


def load_sample(dataset: Dataset, found: Found) -> tuple[Sample, str]:
    """Read and decode one file; any failure is the sample's error. Also returns the file's sha256."""
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
    start = time.perf_counter()
    try:
        decoded = decoder_for(dataset.modality)(data, **dataset.options)
    except SampleError as exc:
        sample.error = f"{found.id}: {exc}"
    else:
        sample.payload, sample.raw_bytes, sample.meta = decoded.payload, decoded.raw_bytes, decoded.meta
    sample.decode_seconds = time.perf_counter() - start
    return sample, hashlib.sha256(data).hexdigest()


def measure(tokenizer: Tokenizer, sample: Sample) -> Measurement:
    """One sample under one tokenizer; a tokenizer failure becomes the row's error."""
    m = Measurement(
        dataset=sample.dataset, modality=sample.modality, tokenizer=tokenizer.name, sample=sample.id,
        raw_bytes=sample.raw_bytes, input_bytes=None, file_bytes=sample.file_bytes, tokens=None,
        seconds=None, decode_seconds=sample.decode_seconds, language=sample.language, error=sample.error,
        meta=dict(sample.meta),
    )
    if sample.error is not None:
        return m
    start = time.perf_counter()
    try:
        result = tokenizer.count_batch([sample.payload])[0]
    except Exception as exc:  # a back-end bug on one sample must not stop the run
        result = SampleError(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    m.seconds = time.perf_counter() - start
    if isinstance(result, SampleError):
        m.error = f"{sample.id}: {tokenizer.name}: {result}"
        return m
    if result.tokens == 0:
        m.error = f"{sample.id}: {tokenizer.name} produced no tokens (C undefined)"
        return m
    m.tokens, m.input_bytes, m.counts = result.tokens, result.input_bytes, dict(result.counts)
    return m


def _progress(total: int) -> Any:
    """A progress bar on stderr for runs longer than a second; none when stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, unit="sample", file=sys.stderr, delay=1.0, disable=not sys.stderr.isatty())


def iter_samples(dataset: Dataset, found: list[Found], hasher: Any) -> Iterator[Sample]:
    """Load the found files one at a time (the corpus is never held whole), feeding the content hash."""
    for entry in found:
        sample, digest = load_sample(dataset, entry)
        hasher.update(f"{entry.id}\0{digest}\n".encode())
        yield sample


def run_suite(
    suite: Suite,
    *,
    device: str = "auto",
    emit: Callable[[dict[str, Any]], None] | None = None,
    tokenizers: list[Tokenizer] | None = None,
) -> RunResult:
    """Measure every dataset with every tokenizer of its modality; ``emit`` receives each result row.

    ``tokenizers`` may be passed already built (so configuration errors surface before any output is written).
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
            for sample in iter_samples(ds, found[ds.name], hasher):
                for t in mine:
                    m = measure(t, sample)
                    groups[(ds.name, ds.modality, t.name)].add(m)
                    if emit is not None:
                        emit(m.to_row())
                bar.update(1)
            datasets[ds.name] = {
                "modality": ds.modality, "samples": len(found[ds.name]), "paths": list(ds.paths),
                "content_sha256": hasher.hexdigest(), "reference_language": ds.reference_language,
            }
    devices = sorted({t.device for t in tokenizers})
    provenance = {
        "versions": library_versions(), "machine": machine(), "device": ",".join(devices),
        "started_utc": started, "finished_utc": utc_now(), "suite_source": suite.source,
    }
    identities = {t.name: {**t.identity(), "modality": t.modality, "device": t.device} for t in tokenizers}
    return RunResult(suite=suite.name, groups=groups, datasets=datasets, tokenizers=identities, provenance=provenance)
