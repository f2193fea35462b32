"""Decoding video samples with PyAV: every frame as RGB at native resolution; T = frames x H x W x 3.

The payload every video adapter consumes is a :class:`Video`: all decoded frames
of the first video stream as one uint8 array (F, H, W, 3), the stream's native
frame rate, its duration and each frame's timestamp. Audio streams are ignored
(``meta["has_audio"]`` says whether there was one).

Limits are checked against the header before any frame is decoded, and again
while decoding: a clip over ``max_frames`` frames, ``max_pixels_per_frame``
pixels a frame or ``max_bytes`` of decoded RGB is refused with a one-line error
naming the limit, rather than filling memory.

:func:`probe_video` reads the same facts from the container and stream headers
alone for --count-only; when the container records no frame count (WebM/Matroska)
it counts the stream's packets, which is demuxing, not decoding.

>>> from pathlib import Path
>>> d = probe_video(Path("fixtures/video/pan_hubble_h264_320x180.mp4").read_bytes())
>>> d.meta["frames"], d.meta["fps"], d.raw_bytes == 90 * 180 * 320 * 3
(90, 30.0, True)
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from compressbench.core.errors import SampleError, first_line
from compressbench.data.decoded import Decoded

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MAX_FRAMES = 10_000  # about 5.5 minutes at 30 fps
DEFAULT_MAX_PIXELS_PER_FRAME = 7680 * 4320  # 8K UHD
DEFAULT_MAX_BYTES = 4 << 30  # decoded RGB held at once: 4 GiB is about 690 frames of 1080p


@dataclass(frozen=True, eq=False)
class Video:
    """A decoded video: what the video adapters consume."""

    frames: "np.ndarray"  # (F, H, W, 3) uint8 RGB, every decoded frame at native resolution
    fps: float  # the stream's native (average) frame rate
    duration_s: float
    pts: "np.ndarray"  # (F,) float64: each frame's presentation time in seconds (NaN where none)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])


@contextmanager
def _opened(data: bytes | BinaryIO) -> Iterator[tuple[Any, Any]]:
    """(container, first video stream) of the bytes (or of an open binary file, read as PyAV needs), with every PyAV failure as a one-line SampleError."""
    import av

    if not data:
        raise SampleError("empty file (0 bytes): not a video")
    try:
        with av.open(io.BytesIO(data) if isinstance(data, bytes) else data, mode="r") as container:
            if not container.streams.video:
                others = ", ".join(f"{len(s)} {kind}" for kind, s in (("audio", container.streams.audio),
                                   ("subtitle", container.streams.subtitles)) if s) or "no streams"
                raise SampleError(f"no video stream in the file ({others}); not a video")
            yield container, container.streams.video[0]
    except SampleError:
        raise
    except av.error.InvalidDataError:
        raise SampleError("not a video PyAV can read (unknown format, or a corrupt or truncated header)") from None
    except (av.error.FFmpegError, ValueError, OSError, EOFError) as exc:
        raise SampleError(f"corrupt or truncated video: {first_line(exc)}") from None


def _fps(stream: Any) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate or rate <= 0:
        raise SampleError("the video stream records no frame rate; cannot place its frames in time")
    return float(rate)


def _duration(container: Any, stream: Any, frames: int, fps: float) -> float:
    """Seconds: the stream's duration, else the container's, else frames / fps."""
    if stream.duration and stream.time_base:
        return round(float(stream.duration * stream.time_base), 6)
    if container.duration:
        return round(container.duration / 1_000_000, 6)  # AV_TIME_BASE
    return round(frames / fps, 6)


def _check_limits(frames: int, width: int, height: int, *, max_frames: int, max_pixels_per_frame: int,
                  max_bytes: int) -> None:
    if width * height > max_pixels_per_frame:
        raise SampleError(f"frames of {width}x{height} = {width * height:,} pixels, over the limit of "
                          f"{max_pixels_per_frame:,} (max_pixels_per_frame); raise it to decode this video")
    if frames > max_frames:
        raise SampleError(f"{frames:,} frames, over the limit of {max_frames:,} (max_frames); raise it or "
                          "cut the video into clips")
    if frames * width * height * 3 > max_bytes:
        raise SampleError(f"{frames:,} frames of {width}x{height} are {frames * width * height * 3:,} bytes "
                          f"decoded, over the limit of {max_bytes:,} (max_bytes); raise it or cut the video")


def _check_complete(frames: int, container: Any, stream: Any, fps: float) -> None:
    """Refuse a stream with clearly fewer frames than its header's duration implies (a cut WebM, say).

    Only a duration that is the video stream's own counts: a container's may be a longer audio track's.
    """
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration and len(container.streams) == 1:
        seconds = container.duration / 1_000_000
    else:
        return
    expected = seconds * fps
    if frames < 0.9 * expected - 1:
        raise SampleError(f"truncated or corrupt video: its header's {seconds:g} s at {fps:g} fps means about "
                          f"{round(expected)} frames, only {frames} found")


def _meta(frames: int, fps: float, width: int, height: int, duration_s: float, stream: Any,
          container: Any) -> dict[str, Any]:
    return {"frames": frames, "fps": fps, "width": width, "height": height, "duration_s": duration_s,
            "codec": stream.codec_context.codec.canonical_name, "has_audio": bool(container.streams.audio)}


def decode_video(data: bytes, *, max_frames: int = DEFAULT_MAX_FRAMES,
                 max_pixels_per_frame: int = DEFAULT_MAX_PIXELS_PER_FRAME, max_bytes: int = DEFAULT_MAX_BYTES) -> Decoded:
    """Decode every frame of the first video stream to RGB; every failure is a one-line SampleError."""
    import numpy as np

    limits = {"max_frames": max_frames, "max_pixels_per_frame": max_pixels_per_frame, "max_bytes": max_bytes}
    with _opened(data) as (container, stream):
        listed = stream.frames  # 0 when the container does not record it
        _check_limits(listed, stream.codec_context.width, stream.codec_context.height, **limits)
        fps = _fps(stream)
        frames, times = _decode_frames(container, stream, limits)
        if listed and len(frames) < listed:
            raise SampleError(f"truncated or corrupt video: the header lists {listed} frames, "
                              f"only {len(frames)} decoded")
        count, height, width = frames.shape[:3]
        _check_complete(count, container, stream, fps)
        meta = _meta(count, fps, width, height, _duration(container, stream, count, fps), stream, container)
    video = Video(frames=frames, fps=fps, duration_s=meta["duration_s"], pts=np.array(times))
    return Decoded(payload=video, raw_bytes=count * height * width * 3, meta=meta)


def _decode_frames(container: Any, stream: Any, limits: dict[str, int]) -> tuple["np.ndarray", list[float]]:
    """Every frame as RGB into one (F, H, W, 3) array, sized from the header when it lists the count.

    Filling one preallocated array, rather than stacking a list, keeps the peak memory at one copy.
    """
    import av
    import numpy as np

    buffer: np.ndarray | None = None
    times: list[float] = []
    stream.thread_type = "AUTO"
    try:
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            count = len(times)
            if buffer is None:
                buffer = np.empty((max(stream.frames, 1), *rgb.shape), dtype=np.uint8)
            elif rgb.shape != buffer.shape[1:]:
                raise SampleError(f"the frame size changes mid-stream ({buffer.shape[2]}x{buffer.shape[1]} "
                                  f"to {rgb.shape[1]}x{rgb.shape[0]}); not supported")
            _check_limits(count + 1, rgb.shape[1], rgb.shape[0], **limits)
            if count == len(buffer):  # no (or a short) count in the header: grow geometrically
                grown = int(min(2 * count, limits["max_frames"], limits["max_bytes"] // rgb.size))  # a suite may give floats
                buffer = np.concatenate([buffer, np.empty((max(grown - count, 1), *rgb.shape), np.uint8)])
            buffer[count] = rgb
            times.append(float("nan") if frame.time is None else float(frame.time))
    except av.error.FFmpegError as exc:
        raise SampleError(f"corrupt or truncated video after {len(times)} frames: {first_line(exc)}") from None
    if buffer is None or not times:
        raise SampleError("the video stream holds no decodable frame")
    return (buffer if len(times) == len(buffer) else buffer[:len(times)].copy()), times


def probe_video(data: bytes | BinaryIO, *, max_frames: int = DEFAULT_MAX_FRAMES,
                max_pixels_per_frame: int = DEFAULT_MAX_PIXELS_PER_FRAME, max_bytes: int = DEFAULT_MAX_BYTES) -> Decoded:
    """Frames, fps, size and duration from the headers, for --count-only: no frame is decoded (payload None).

    Same meta and the same refusals as :func:`decode_video`. The frame count is the stream header's;
    where the container has none it is the number of the stream's packets (one frame each for the
    codecs of the fixtures; a codec with invisible frames, as VP8's alt-ref frames, would count more).
    A file cut after its headers is counted: only decoding finds that damage.
    """
    with _opened(data) as (container, stream):
        width, height = stream.codec_context.width, stream.codec_context.height
        frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size > 0)
        if not frames:
            raise SampleError("the video stream holds no frame")
        _check_limits(frames, width, height, max_frames=max_frames, max_pixels_per_frame=max_pixels_per_frame,
                      max_bytes=max_bytes)
        fps = _fps(stream)
        _check_complete(frames, container, stream, fps)
        meta = _meta(frames, fps, width, height, _duration(container, stream, frames, fps), stream, container)
    return Decoded(payload=None, raw_bytes=frames * height * width * 3, meta=meta)
