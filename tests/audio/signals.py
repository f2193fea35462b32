"""Shared inputs of the audio tests: the decoded fixture clips and synthetic sine waves."""

from __future__ import annotations

import struct
from functools import cache

import numpy as np

from compressbench.data.audio import Audio, decode_audio
from tests.conftest import FIXTURES

AUDIO_FILES = sorted((FIXTURES / "audio").iterdir())
# (seconds, sample rate, channels): shorter than a window, exactly 30 s, just over, over two windows; odd rates
SYNTHETIC = [(0.1, 16000, 1), (30.0, 16000, 1), (30.01, 22050, 1), (61.0, 8000, 1), (30.0, 44100, 2),
             (0.1, 22050, 2), (7.3, 11025, 1)]


@cache
def decoded(name: str) -> Audio:
    """A fixture clip, decoded once per test session."""
    return decode_audio((FIXTURES / "audio" / name).read_bytes()).payload


def sine(seconds: float, rate: int, channels: int = 1, freq: float = 440.0) -> Audio:
    """A sine wave of round(seconds x rate) frames, as a decoded payload."""
    t = np.arange(round(seconds * rate), dtype=np.float64) / rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t)
    return Audio(samples=np.repeat(wave[None], channels, axis=0).astype(np.float32), sample_rate=rate)


def wav(frames: int, rate: int = 16000, channels: int = 1, declared: int | None = None) -> bytes:
    """A PCM s16le WAV file; ``declared`` overrides the data chunk's size field."""
    pcm = (np.sin(np.arange(frames * channels) / 10) * 3000).astype("<i2").tobytes()
    size = len(pcm) if declared is None else declared
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16)
    return b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE" + fmt + b"data" + struct.pack("<I", size) + pcm
