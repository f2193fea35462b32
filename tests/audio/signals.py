"""Shared inputs of the audio tests: the decoded fixture clips and synthetic sine waves."""

from __future__ import annotations

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
