"""Audio too long to hold whole: counted in one streaming decode, then decoded again window by window.

A loose local audio file whose header declares a decoded size T (16-bit PCM: frames x channels x 2)
over ``stream_above_bytes`` (an audio decoder option, default 64 MiB, about 6 minutes of 48 kHz
stereo) is not decoded into memory. :func:`scan_audio` decodes it once, codec frame by codec frame,
counting its frames exactly as a whole decode does (same decoder, same resampler, same checks); the
payload is an :class:`AudioFile`, a path and those counts, cheap to pickle from a decode worker.
Tokenizers then read it back in consecutive windows (:meth:`AudioFile.windows`) or only its start
(:meth:`AudioFile.head`), so memory is bounded by a window, not by the recording. T, the duration and
N equal the whole decode's.

>>> import struct, tempfile, pathlib
>>> fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 16000, 2, 16)
>>> pcm = struct.pack("<5h", 0, 1000, -1000, 0, 7)
>>> wav = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE" + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
>>> with tempfile.TemporaryDirectory() as d:
...     path = pathlib.Path(d, "a.wav"); _ = path.write_bytes(wav)
...     audio, meta = scan_audio(path)
...     [w.frames for w in audio.windows(2)], audio.head(3).frames, audio.raw_bytes, meta["duration_s"]
([2, 2, 1], 3, 10, 0.000625)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compressbench.core.errors import SampleError
from compressbench.data.audio import (MAX_DURATION_S, PCM_BYTES, Audio, check_length, declared_seconds,
                                      decoded_chunks, open_audio)


@dataclass(frozen=True)
class AudioFile:
    """A decodable audio file of ``frames`` frames (``channels`` x ``frames`` at ``sample_rate`` Hz), read
    back in windows; the same shape facts as :class:`~compressbench.data.audio.Audio`."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    scan_seconds: float = 0.0  # how long the first, counting decode took (bounds the second's stalls)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def raw_bytes(self) -> int:
        """The canonical size T: frames x channels x 2."""
        return self.frames * self.channels * PCM_BYTES

    def windows(self, frames: int) -> Iterator[Audio]:
        """Consecutive windows of ``frames`` frames (the last one shorter) that join to the whole decode."""
        if frames < 1:
            raise ValueError(f"a window needs at least one frame, got {frames}")
        pending: list[np.ndarray] = []
        held = decoded = 0
        for chunk in self._chunks():
            pending.append(chunk)
            held += chunk.shape[1]
            decoded += chunk.shape[1]
            if held < frames:
                continue
            joined = np.concatenate(pending, axis=1)
            cut = held - held % frames
            for start in range(0, cut, frames):
                yield Audio(samples=np.ascontiguousarray(joined[:, start:start + frames]), sample_rate=self.sample_rate)
            pending, held = ([joined[:, cut:]], held - cut) if held > cut else ([], 0)
        if held:
            yield Audio(samples=np.ascontiguousarray(np.concatenate(pending, axis=1)), sample_rate=self.sample_rate)
        if decoded != self.frames:  # written to between the two decodes: the windows are not of the audio T counted
            raise SampleError(f"the file changed while it was measured (its first decode gave {self.frames:,} frames, "
                              f"the second {decoded:,}); measure it again once it is complete")

    def head(self, frames: int) -> Audio:
        """The first ``frames`` frames (all of them when the file is shorter), decoding no further."""
        return next(self.windows(min(max(frames, 1), self.frames)))

    def _chunks(self) -> Iterator[np.ndarray]:
        """The decoded samples in blocks of about a second, decoded in a supervised process of their own
        (:func:`~compressbench.parallel.supervised_stream`): tokenizers run in the main process, and a
        decoder that crashes or hangs on this second pass fails the sample, not the run. A block that
        takes longer than twice the whole first pass (and at least a minute) is a hang."""
        from compressbench.parallel import StreamFailed, supervised_stream

        try:
            yield from supervised_stream(_blocks, self.path, self.sample_rate,
                                         stall_s=max(STALL_MIN_S, 2 * self.scan_seconds))
        except StreamFailed as exc:
            raise SampleError(f"decoding the audio again, window by window, failed: {exc}") from None


STALL_MIN_S = 60.0  # the least time a block of the second decode may take before it counts as a hang


def _blocks(path: Path, frames: int) -> Iterator[np.ndarray]:
    """The file's decoded samples (channels x frames) in blocks of at least ``frames`` frames (the last
    one shorter): fewer, larger messages from the decoding process."""
    with path.open("rb") as fh, open_audio(fh) as (container, stream):
        pending: list[np.ndarray] = []
        held = 0
        for chunk, _ in decoded_chunks(container, stream):
            pending.append(chunk)
            held += chunk.shape[1]
            if held >= frames:
                yield np.concatenate(pending, axis=1)
                pending, held = [], 0
        if pending:
            yield np.concatenate(pending, axis=1)


def scan_audio(path: Path, *, max_duration_s: float = MAX_DURATION_S) -> tuple[AudioFile, dict[str, Any]]:
    """One streaming decode of a file: (its lazy payload, the ``meta`` :func:`decode_audio` gives).

    The same limits and checks as a whole decode: over ``max_duration_s``, no frames, or shorter than
    the header declares is a one-line SampleError.
    """
    start = time.perf_counter()
    with path.open("rb") as fh, open_audio(fh) as (container, stream):
        codec = stream.codec_context.codec.canonical_name
        declared = declared_seconds(container, stream)
        if declared is not None and declared > max_duration_s:
            raise SampleError(f"audio lasts {declared:.1f} s, over the limit max_duration_s={max_duration_s:g}")
        frames, rate, channels = 0, stream.rate or 0, max(stream.channels, 1)
        for chunk, rate in decoded_chunks(container, stream, max_duration_s):
            frames += chunk.shape[1]
            channels = chunk.shape[0]
    if frames == 0:
        raise SampleError(f"the {codec} audio stream has no frames (nothing to tokenize)")
    audio = AudioFile(path=path, sample_rate=rate, channels=channels, frames=frames,
                      scan_seconds=time.perf_counter() - start)
    check_length(codec, declared, audio.duration_s)
    meta = {"sample_rate": rate, "channels": channels, "duration_s": audio.duration_s, "codec": codec}
    return audio, meta
