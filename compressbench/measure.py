"""Measuring samples: reading and decoding one record, tokenizing a batch with one tokenizer.

Every failure (unreadable file, bad data, a back-end's exception) becomes the
sample's one-line error; nothing here stops a run.

>>> from compressbench import get_tokenizer
>>> s = Sample(dataset="d", modality="text", id="x", path=None, payload="héllo", raw_bytes=6)
>>> measure(get_tokenizer("bytes"), s).tokens
6
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from compressbench.adapters.base import Tokenizer
from compressbench.core.clock import SharedClock
from compressbench.core.contenthash import file_digest, sample_digest
from compressbench.core.errors import SampleError, first_line
from compressbench.core.sample import Measurement, Sample, TokenCount
from compressbench.data.decoded import Decoded
from compressbench.data.formats.base import Record
from compressbench.data.formats.files import Unreadable, checked_size, read_file
from compressbench.data.modalities import decoder_for, probe_for
from compressbench.data.text import record_text
from compressbench.data.textfile import STREAM_ABOVE_BYTES, TextFile, scan_text
from compressbench.data.suite import Dataset
from compressbench.prefetch import overlapped


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {first_line(exc)}"


DEFAULT_MAX_FILE_BYTES = 8 << 30  # 8 GiB: above it a file is an error row, not read


def load_sample(dataset: Dataset, record: Record, *, count_only: bool = False,
                max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, hash_mode: str = "full") -> Sample:
    """Read (a loose file) and decode one record; any failure is the sample's error.

    ``sample.sha256`` is the digest of the measured bytes under ``hash_mode``
    (:func:`~compressbench.core.contenthash.sample_digest`): the file, the member, or a record's
    field (text: its UTF-8 bytes); None when nothing was read, and ``sample.status`` then says why.
    With ``count_only`` a modality that has a probe reads only its header (shape, duration) and
    leaves the payload empty; its tokenizers then count from that metadata. A local file is then never
    held whole: it is hashed in blocks and the probe reads what it needs from the open file. Audio
    whose header declares a T over the option ``stream_above_bytes`` is decoded window by window
    (:mod:`compressbench.data.audiofile`), like a long text read in pieces.
    """
    sample = Sample(dataset=dataset.name, modality=dataset.modality, id=record.id, path=record.unit.source.path,
                    language=dataset.language_of(record.name, record.fields))
    if record.error is not None:
        sample.error = record.error
        sample.status = "missing" if record.unit.source.error is not None else "unreadable"
        return sample
    probe = probe_for(dataset.modality) if count_only else None
    options, decode = dataset.options, None
    if record.data is None:  # a loose file
        try:
            read = _read_loose(sample, dataset, record, probe, max_file_bytes, hash_mode)
            if read is None:
                return sample
            data = read
        except Unreadable as exc:
            sample.error, sample.status = str(exc), exc.marker
            return sample
        except OSError as exc:
            sample.error, sample.status = f"{record.id}: cannot read ({exc.strerror or exc})", "unreadable"
            return sample
    elif isinstance(record.data, str):  # a record's text field: measured as UTF-8, whatever the file's encoding
        try:
            data, decode = record.data.encode("utf-8"), partial(record_text, record.data)
        except UnicodeEncodeError as exc:  # a JSON escape such as "\\ud800" with no pair: not text
            sample.error = (f"{record.id}: the text holds a lone surrogate ({exc.object[exc.start]!a} at character "
                            f"{exc.start}), which is not Unicode text; fix the record's escapes")
            sample.status = "undecodable"
            return sample
    else:
        data = record.data
    sample.file_bytes, sample.sha256 = len(data), sample_digest(data, hash_mode)
    if not data and record.data is not None:  # a record's empty field (an empty file says so when decoded)
        sample.error = f"{record.id}: the record's field is empty (0 bytes): nothing to measure"
        return sample
    _decode(sample, probe or decode or decoder_for(dataset.modality), data, options, probed=probe is not None)
    return sample


def _read_loose(sample: Sample, dataset: Dataset, record: Record, probe: Callable[..., Decoded] | None,
                max_bytes: int, hash_mode: str) -> bytes | None:
    """A loose file's bytes, or None when it need not be held whole and is measured here: a local text over
    ``stream_above_bytes`` (tokenized in pieces), local audio whose header declares a T over
    ``stream_above_bytes`` (decoded window by window), or a local header to probe (the file hashed as it
    is read, never held)."""
    source = record.unit.source
    if source.path is None or source.url is not None:
        return read_file(source, max_bytes=max_bytes)
    size = checked_size(source, max_bytes=max_bytes)
    streams = dataset.modality in ("text", "audio") and probe is None
    if streams and dataset.modality == "text" and size > dataset.options.get("stream_above_bytes", STREAM_ABOVE_BYTES):
        _stream_text(sample, dataset.options.get("encoding", "utf-8"), hash_mode)
        return None
    if streams and dataset.modality == "audio" and size > 0 and _long_audio(source.path, dataset.options):
        _stream_audio(sample, dataset.options, hash_mode)
        return None
    if probe is not None and size > 0:
        sample.file_bytes, sample.sha256 = size, file_digest(source.path, hash_mode)
        with source.path.open("rb") as fh:
            _decode(sample, probe, fh, dataset.options, probed=True)
        return None
    return read_file(source, max_bytes=max_bytes, checked=True)


def _stream_text(sample: Sample, encoding: str, hash_mode: str) -> None:
    """A text too large to hold: checked and hashed in one pass, then a :class:`TextFile` payload that
    tokenizers read in pieces. An OSError propagates (the caller reports the file as unreadable)."""
    start = time.perf_counter()
    try:
        payload, sample.sha256 = scan_text(sample.path, encoding=encoding, hash_mode=hash_mode)
    except SampleError as exc:
        sample.error = f"{sample.id}: {exc}"
        # hashed as a file read whole is: the dataset's content hash does not depend on how it was read
        sample.file_bytes, sample.sha256 = sample.path.stat().st_size, file_digest(sample.path, hash_mode)
    else:
        sample.payload, sample.raw_bytes, sample.file_bytes = payload, payload.raw_bytes, sample.path.stat().st_size
    sample.decode_seconds = time.perf_counter() - start


def _long_audio(path: Path, options: dict[str, Any]) -> bool:
    """Whether the header of a local audio file declares a T over ``stream_above_bytes`` (False when it
    declares no duration, or cannot be read: the whole decode then says what is wrong)."""
    from compressbench.data.audio import STREAM_ABOVE_BYTES as AUDIO_ABOVE, probe_audio

    try:
        with path.open("rb") as fh:
            declared = probe_audio(fh).raw_bytes
    except Exception:  # any header problem is reported by the whole decode
        return False
    return declared > options.get("stream_above_bytes", AUDIO_ABOVE)


def _stream_audio(sample: Sample, options: dict[str, Any], hash_mode: str) -> None:
    """Audio too long to hold: hashed, then counted in one streaming decode into an :class:`AudioFile`
    payload that tokenizers read window by window. An OSError propagates (the file is unreadable)."""
    from compressbench.data.audiofile import scan_audio

    start = time.perf_counter()
    sample.file_bytes, sample.sha256 = sample.path.stat().st_size, file_digest(sample.path, hash_mode)
    limits = {k: v for k, v in options.items() if k == "max_duration_s"}
    try:
        payload, sample.meta = scan_audio(sample.path, **limits)
    except SampleError as exc:
        sample.error = f"{sample.id}: {exc}"
    else:
        sample.payload, sample.raw_bytes = payload, payload.raw_bytes
    sample.decode_seconds = time.perf_counter() - start


def _decode(sample: Sample, decode: Callable[..., Decoded], data: bytes | BinaryIO, options: dict[str, Any],
            *, probed: bool) -> None:
    """Decode (or probe) into the sample; a failure becomes its one-line error. An OSError of an open
    file propagates (the caller reports the file as unreadable)."""
    start = time.perf_counter()
    try:
        decoded = decode(data, **options)
    except SampleError as exc:
        sample.error = f"{sample.id}: {exc}"
    except OSError as exc:
        if not isinstance(data, bytes):
            raise
        sample.error = f"{sample.id}: cannot decode ({_first_line(exc)})"
    except Exception as exc:  # a decoder library's own failure on one file must not stop the run
        sample.error = f"{sample.id}: cannot decode ({_first_line(exc)})"
    else:
        sample.payload, sample.raw_bytes, sample.meta = decoded.payload, decoded.raw_bytes, decoded.meta
        if probed:
            sample.probed = True
            sample.meta = {**sample.meta, "counted_from": "header"}
    sample.decode_seconds = time.perf_counter() - start


def _row(tokenizer: Tokenizer, sample: Sample) -> Measurement:
    """The measurement of ``sample`` before tokenizing: identity, sizes and any decode error."""
    return Measurement(
        dataset=sample.dataset, modality=sample.modality, tokenizer=tokenizer.name, sample=sample.id,
        raw_bytes=sample.raw_bytes, input_bytes=None, file_bytes=sample.file_bytes, tokens=None,
        seconds=None, decode_seconds=sample.decode_seconds, language=sample.language, error=sample.error,
        meta={**sample.meta, "file_sha256": sample.sha256},
    )


def _record(m: Measurement, tokenizer: Tokenizer, result: TokenCount | SampleError, seconds: float) -> None:
    """Fill a measurement with a tokenizer's result or its error."""
    m.seconds = seconds
    if isinstance(result, SampleError):
        m.error = f"{m.sample}: {tokenizer.name}: {result}"
    elif result.tokens == 0:
        m.error = f"{m.sample}: {tokenizer.name} produced no tokens (C undefined)"
    elif undeclared := tokenizer.undeclared(result):
        m.error = (f"{m.sample}: {tokenizer.name} reported count(s) {', '.join(undeclared)} that its adapter does not "
                   f"declare; add them to the adapter's `counts` (name -> CountSpec(unit, aggregate))")
    else:
        m.tokens, m.input_bytes, m.counts = result.tokens, result.input_bytes, dict(result.counts)
        m.token_ids = result.ids


def _count(tokenizer: Tokenizer, payloads: list[Any], clock: SharedClock) -> tuple[list[TokenCount | SampleError], float]:
    """Tokenize a batch, timed with the device synchronised; a back-end exception fails the whole call."""
    with clock.timing() as seconds:
        results = tokenizer.count_batch(payloads)
        tokenizer.synchronize()
    return results, seconds[0]


def _guarded(tokenizer: Tokenizer, sample: Sample, clock: SharedClock) -> tuple[TokenCount | SampleError, float]:
    """One sample (or its probed metadata); a back-end bug on it becomes its error, not a stopped run."""
    try:
        if sample.probed:
            with clock.timing() as seconds:
                counted = tokenizer.count_from_meta(sample.meta)
            return counted, seconds[0]
        results, spent = _count(tokenizer, [sample.payload], clock)
        return results[0], spent
    except SampleError as exc:
        return exc, 0.0
    except Exception as exc:
        return SampleError(_first_line(exc)), 0.0


def measure_batch(tokenizer: Tokenizer, samples: list[Sample], *, clock: SharedClock | None = None) -> list[Measurement]:
    """Measure samples with one tokenizer, batching the tensor work when the adapter batches.

    Adapters that do not override ``count_batch`` are timed sample by sample. A
    batched call's time is shared among its samples in proportion to their raw
    bytes; if the batch raises, each sample is retried alone so only the bad one fails.
    ``clock``: shared with the calls that run at the same time (:func:`measure_batches`).
    """
    clock = clock or SharedClock()
    from compressbench.adapters._text import TextTokenizer  # numpy: not at import (``--help`` stays light)

    rows = [_row(tokenizer, s) for s in samples]
    for m, s in zip(rows, samples):
        if isinstance(s.payload, TextFile) and not isinstance(tokenizer, TextTokenizer) and s.error is None:
            m.error = (f"{s.id}: {tokenizer.name} reads whole texts only, and this file ({s.file_bytes:,} bytes) "
                       "is read in pieces; raise the dataset's stream_above_bytes option to measure it whole")
    todo = [(m, s) for m, s in zip(rows, samples) if m.error is None]
    batches = type(tokenizer).count_batch is not Tokenizer.count_batch and len(todo) > 1
    batches = batches and not any(s.probed for _, s in todo)
    if batches:
        try:
            results, seconds = _count(tokenizer, [s.payload for _, s in todo], clock)
        except Exception:
            batches = False
        else:
            total = sum(s.raw_bytes for _, s in todo) or 1
            for (m, s), result in zip(todo, results):
                _record(m, tokenizer, result, seconds * s.raw_bytes / total)
    if not batches:
        for m, s in todo:
            result, seconds = _guarded(tokenizer, s, clock)
            _record(m, tokenizer, result, seconds)
    return rows


def measure_batches(tokenizers: Sequence[Tokenizer], batches: Iterable[list[Sample]], *,
                    done: Callable[[Tokenizer, Sample], bool] | None = None, ahead: int = 1) -> Iterator[list[Measurement]]:
    """Each batch measured with every tokenizer (``done(tokenizer, sample)``: skip what is measured already),
    up to ``ahead`` batches at once on threads (:func:`~compressbench.prefetch.overlapped`; 0: on this
    thread) when every tokenizer allows it (``concurrent_batches``), else one at a time on a thread while
    the next batch is read. Text's tally of one batch then overlaps the next one's encode. Rows come batch
    by batch, in order; a batch's ``seconds`` are its share of the wall time
    (:class:`~compressbench.core.clock.SharedClock`).

    >>> from compressbench import get_tokenizer
    >>> texts = [Sample(dataset="d", modality="text", id=str(i), path=None, payload="ab" * i, raw_bytes=2 * i)
    ...          for i in range(1, 4)]
    >>> [[m.tokens for m in rows] for rows in measure_batches([get_tokenizer("bytes")], [texts[:2], texts[2:]], ahead=2)]
    [[2, 4], [6]]
    """
    clock = SharedClock()

    def measuring(batch: list[Sample]) -> Callable[[], list[Measurement]]:
        todo = [(t, [s for s in batch if done is None or not done(t, s)]) for t in tokenizers]
        return lambda: [m for t, samples in todo for m in measure_batch(t, samples, clock=clock)]

    return overlapped(map(measuring, batches), ahead if all(t.concurrent_batches for t in tokenizers) else min(ahead, 1))


def measure(tokenizer: Tokenizer, sample: Sample) -> Measurement:
    """One sample under one tokenizer; a tokenizer failure becomes the row's error."""
    return measure_batch(tokenizer, [sample])[0]


BATCH_BYTES = 1 << 30  # decoded bytes a batch may hold before it is handed on (1 GiB)


def batched(items: Iterator[Sample], size: int, max_bytes: int = BATCH_BYTES) -> Iterator[list[Sample]]:
    """Consecutive lists of at most ``size`` samples and, past the first, at most ``max_bytes``
    of decoded data (only one batch is held at a time: long audio or video do not pile up)."""
    batch: list[Sample] = []
    held = 0
    for item in items:
        batch.append(item)
        held += item.raw_bytes if item.payload is not None else 0
        if len(batch) >= size or held >= max_bytes:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch
