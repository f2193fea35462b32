"""Decoding audio samples with PyAV: T = frames x channels x 2 (16-bit PCM) at the native rate.

The first audio stream is decoded to float32 at its native sample rate
and channel layout; the payload is an :class:`Audio` (channels x frames).
Anything that does not yield audio frames is a one-line :class:`SampleError`.

>>> import struct
>>> fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 16000, 2, 16)
>>> pcm = struct.pack("<4h", 0, 1000, -1000, 0)
>>> wav = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE" + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
>>> decoded = decode_audio(wav)
>>> decoded.raw_bytes, decoded.meta["sample_rate"], decoded.meta["channels"], decoded.payload.frames
(8, 8000, 1, 4)
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from compressbench.core.errors import BackendMissing, SampleError, first_line
from compressbench.data.decoded import Decoded

PCM_BYTES = 2  # canonical raw size counts 16-bit samples, whatever the file stores
MAX_DURATION_S = 4 * 3600.0  # 4 hours: decoded in windows above stream_above_bytes (compressbench.data.audiofile)
STREAM_ABOVE_BYTES = 64 << 20  # a loose file whose header declares a larger T is decoded window by window

# A decoded stream shorter than its header declares by more than this is truncated or corrupt.
# Lenient because some headers estimate (CBR MP3 from the file size; Opus counts its pre-skip).
_SHORTFALL_S = 0.5
_SHORTFALL_SHARE = 0.02

# PyAV counts a planar frame's planes up to the first NULL pointer, which FFmpeg's array of plane
# pointers lacks from 8 channels on: reading them crashed the process (signal 11). Such audio is
# resampled to packed (interleaved) float32 instead, which has one plane; fewer channels stay planar,
# the decoders' native layout (no conversion).
_PLANAR_MAX_CHANNELS = 8


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded audio: float32 samples (channels x frames) at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def raw_bytes(self) -> int:
        """The canonical size T: frames x channels x 2."""
        return self.frames * self.channels * PCM_BYTES


_one_line = first_line  # an FFmpeg error's strerror, without its errno prefix and file placeholder


_WAV_HEAD = 64 << 10  # of an open file, the bytes read to find a WAV's data chunk


def _wav_shortfall(data: bytes, size: int | None = None) -> int | None:
    """Bytes missing from a RIFF/WAVE file's ``data`` chunk (FFmpeg silently clips it to the file size).

    ``data`` is the whole file, or its first bytes when ``size`` gives the file's size (None when the
    data chunk's header is not among them)."""
    size = len(data) if size is None else size
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(data):
        chunk, chunk_size = struct.unpack_from("<4sI", data, pos)
        pos += 8
        if chunk == b"data":
            if chunk_size in (0, 0xFFFFFFFF):  # empty, or a streamed file that never filled in its size
                return None
            return max(0, chunk_size - (size - pos))
        pos += chunk_size + (chunk_size & 1)
    return None


def declared_seconds(container: Any, stream: Any) -> float | None:
    """The duration the header declares, if any."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1e6
    return None


@contextlib.contextmanager
def open_audio(data: bytes | BinaryIO) -> Iterator[tuple[Any, Any]]:
    """The container and its first audio stream, or a one-line SampleError saying why there is none.

    ``data`` is the file's bytes or an open binary file (PyAV then reads only what it needs)."""
    try:
        import av  # deferred: text runs never load FFmpeg
    except ImportError:
        raise BackendMissing("decoding audio needs PyAV, which is not installed; pip install av") from None
    if not data:
        raise SampleError("empty file (0 bytes): no audio to decode")
    if isinstance(data, bytes):
        shortfall = _wav_shortfall(data)
    else:
        head, size = data.read(_WAV_HEAD), os.fstat(data.fileno()).st_size
        data.seek(0)
        shortfall = _wav_shortfall(head, size)
    if shortfall:
        raise SampleError(f"truncated WAV file: its data chunk lacks {shortfall} of its declared bytes")
    try:
        container = av.open(io.BytesIO(data) if isinstance(data, bytes) else data, mode="r")
    except (av.FFmpegError, EOFError, ValueError) as exc:
        raise SampleError(f"not a decodable audio file ({_one_line(exc)})") from None
    with container:
        if not container.streams.audio:
            found = ", ".join(f"{s.type} {s.codec_context.codec.canonical_name}" if s.codec_context else s.type
                              for s in container.streams) or "none"
            raise SampleError(f"no audio stream in the file (streams found: {found})")
        yield container, container.streams.audio[0]


def decode_audio(data: bytes, *, max_duration_s: float = MAX_DURATION_S,
                 stream_above_bytes: int = STREAM_ABOVE_BYTES) -> Decoded:
    """Decode the first audio stream of a file's bytes (the format is probed from the content).

    ``max_duration_s`` refuses longer audio, from the header when it declares a
    duration, else while decoding. A loose local file whose header declares a T over
    ``stream_above_bytes`` never gets here: it is decoded window by window
    (:mod:`compressbench.data.audiofile`), so its memory is bounded by a window, not the file.
    """
    with open_audio(data) as (container, stream):
        codec = stream.codec_context.codec.canonical_name
        declared = declared_seconds(container, stream)
        if declared is not None and declared > max_duration_s:
            raise SampleError(f"audio lasts {declared:.1f} s, over the limit max_duration_s={max_duration_s:g}")
        samples, rate = _decode_stream(container, stream, max_duration_s)
    if samples.shape[1] == 0:
        raise SampleError(f"the {codec} audio stream has no frames (nothing to tokenize)")
    audio = Audio(samples=samples, sample_rate=rate)
    check_length(codec, declared, audio.duration_s)
    meta = {"sample_rate": rate, "channels": audio.channels, "duration_s": audio.duration_s, "codec": codec}
    return Decoded(payload=audio, raw_bytes=audio.raw_bytes, meta=meta)


def check_length(codec: str, declared: float | None, decoded_s: float) -> None:
    """A SampleError when the decoded audio falls short of the header's duration (truncated or corrupt)."""
    if declared is not None and declared - decoded_s > max(_SHORTFALL_S, _SHORTFALL_SHARE * declared):
        raise SampleError(f"truncated or corrupt {codec} audio: decoded {decoded_s:.2f} s "
                          f"of the {declared:.2f} s its header declares")


def probe_audio(data: bytes | BinaryIO, *, max_duration_s: float = MAX_DURATION_S,
                stream_above_bytes: int = STREAM_ABOVE_BYTES) -> Decoded:
    """:func:`decode_audio`'s T and ``meta`` from the headers alone, no payload (for --count-only runs).

    Exact for WAV, FLAC and MP3 with a gapless (Xing/LAME) header; Opus's
    pre-skip is subtracted as its decoder drops it; other containers
    (e.g. AAC in MP4) declare durations that may differ from the decoded
    one by the codec's priming samples.
    """
    with open_audio(data) as (container, stream):
        codec = stream.codec_context.codec.canonical_name
        declared = declared_seconds(container, stream)
        rate, channels = stream.rate, stream.channels
        extradata = stream.codec_context.extradata or b""
    if declared is None or not rate:
        raise SampleError(f"the {codec} stream's header declares no duration or rate; decode it instead")
    frames = round(declared * rate)
    if codec == "opus" and len(extradata) >= 12 and extradata[:8] == b"OpusHead":
        frames -= struct.unpack_from("<H", extradata, 10)[0]  # pre-skip, in 48 kHz samples (Opus's only output rate)
    if frames <= 0:
        raise SampleError(f"the {codec} audio stream has no frames (nothing to tokenize)")
    if frames / rate > max_duration_s:
        raise SampleError(f"audio lasts {frames / rate:.1f} s, over the limit max_duration_s={max_duration_s:g}")
    meta = {"sample_rate": rate, "channels": channels, "duration_s": frames / rate, "codec": codec}
    return Decoded(payload=None, raw_bytes=frames * channels * PCM_BYTES, meta=meta)


def _decode_stream(container: Any, stream: Any, max_duration_s: float) -> tuple[np.ndarray, int]:
    """Every frame of ``stream`` as float32 (channels x frames) at the first frame's rate and layout."""
    chunks: list[np.ndarray] = []
    rate = stream.rate or 0
    for chunk, rate in decoded_chunks(container, stream, max_duration_s):
        chunks.append(chunk)
    if not chunks:
        return np.zeros((max(stream.channels, 1), 0), dtype=np.float32), rate
    return np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32), rate


def decoded_chunks(container: Any, stream: Any,
                   max_duration_s: float = MAX_DURATION_S) -> Iterator[tuple[np.ndarray, int]]:
    """The decoded frames of ``stream`` in order, as (float32 channels x frames, sample rate) chunks of one
    codec frame each, at the first frame's rate and layout; a decoding error is a one-line SampleError."""
    import av

    resampler, packed = None, False
    rate = stream.rate or 0
    total = 0
    try:
        for frame in container.decode(stream):
            if resampler is None:  # no rate or layout: keep the first frame's
                packed = frame.layout.nb_channels >= _PLANAR_MAX_CHANNELS
                resampler = av.AudioResampler(format="flt" if packed else "fltp")
            for out in resampler.resample(frame):
                rate = out.sample_rate
                total += out.samples
                yield _channels_by_frames(out, packed), rate
            if rate and total > max_duration_s * rate:
                raise SampleError(f"audio lasts over the limit max_duration_s={max_duration_s:g}")
        for out in resampler.resample(None) if resampler else []:
            yield _channels_by_frames(out, packed), out.sample_rate
    except av.FFmpegError as exc:
        seconds = total / rate if rate else 0.0
        raise SampleError(f"corrupt or truncated audio after {seconds:.2f} s ({_one_line(exc)})") from None


def _channels_by_frames(frame: Any, packed: bool) -> np.ndarray:
    """A float32 frame's samples as channels x frames (a view for packed frames)."""
    samples = frame.to_ndarray()
    return samples.reshape(frame.samples, -1).T if packed else samples
