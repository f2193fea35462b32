"""Videos made in memory with PyAV for the video tests: lossless synthetic clips and an audio-only file."""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np


def ramp(frames: int, height: int, width: int) -> np.ndarray:
    """(F, H, W, 3) uint8 frames whose pixels tell frame, row and column apart."""
    f, y, x = np.meshgrid(np.arange(frames), np.arange(height), np.arange(width), indexing="ij")
    return np.stack([(f * 7) % 256, (y * 3) % 256, (x * 5) % 256], axis=-1).astype(np.uint8)


def encode(frames: np.ndarray, fps: int = 30, *, codec: str = "ffv1", fmt: str = "matroska",
           pix_fmt: str = "bgr0") -> bytes:
    """The frames encoded in memory; FFV1 in Matroska (the default) is lossless and takes any size."""
    buf = io.BytesIO()
    with av_open(buf, fmt) as out:
        st = out.add_stream(codec, rate=fps)
        st.width, st.height, st.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
        st.codec_context.time_base = Fraction(1, fps)
        for i, pixels in enumerate(frames):
            frame = _video_frame(pixels)
            frame.pts = i
            for packet in st.encode(frame):
                out.mux(packet)
        for packet in st.encode(None):
            out.mux(packet)
    return buf.getvalue()


def audio_only(fmt: str = "mp4") -> bytes:
    """An MP4 holding one second of AAC audio and no video stream."""
    import av

    buf = io.BytesIO()
    with av_open(buf, fmt) as out:
        st = out.add_stream("aac", rate=16000, layout="mono")
        for i in range(16):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in st.encode(frame):
                out.mux(packet)
        for packet in st.encode(None):
            out.mux(packet)
    return buf.getvalue()


def av_open(buf: io.BytesIO, fmt: str):
    import av

    return av.open(buf, mode="w", format=fmt)


def _video_frame(pixels: np.ndarray):
    import av

    return av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
