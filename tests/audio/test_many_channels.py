"""Audio with 8 or more channels: decoded exactly, never a crash.

PyAV miscounts the planes of a planar frame with 8 or more channels, and
reading them used to kill the process (signal 11). The files are built here:
WAV with the standard library's ``wave``, FLAC with FFmpeg's encoder (FLAC
allows at most 8 channels, so there is no 16-channel FLAC to test).
"""

from __future__ import annotations

import io
import json
import wave

import numpy as np
import pytest

from compressbench.data.audio import decode_audio
from tests.conftest import cli

RATE = 16000
FRAMES = 20000  # 1.25 s: more than one decoded frame of every codec here


def _pcm(channels: int) -> np.ndarray:
    """frames x channels of int16, a different ramp in every channel."""
    ramp = np.arange(FRAMES, dtype=np.int64)[:, None] * (np.arange(channels) + 1)
    return ((ramp % 4001) - 2000).astype("<i2")


def _wav(pcm: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _flac(pcm: np.ndarray) -> bytes:
    import av

    buf = io.BytesIO()
    layout = f"{pcm.shape[1]}c"
    with av.open(buf, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=RATE, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buf.getvalue()


CASES = [("wav", 8), ("wav", 16), ("flac", 8)]


@pytest.mark.parametrize(("fmt", "channels"), CASES, ids=[f"{f}-{c}ch" for f, c in CASES])
def test_many_channels_decode_to_the_written_samples(fmt, channels):
    pcm = _pcm(channels)
    data = _wav(pcm) if fmt == "wav" else _flac(pcm)
    decoded = decode_audio(data)
    assert decoded.meta["channels"] == channels and decoded.meta["sample_rate"] == RATE
    assert decoded.raw_bytes == FRAMES * channels * 2
    # both formats are lossless: FFmpeg's s16 -> float conversion is x / 32768
    np.testing.assert_array_equal(decoded.payload.samples, pcm.T.astype(np.float32) / 32768)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_16_channel_file_is_measured_beside_a_good_one(tmp_path, workers):
    (tmp_path / "good.wav").write_bytes(_wav(_pcm(1)))
    (tmp_path / "ch16.wav").write_bytes(_wav(_pcm(16)))
    proc = cli("measure", "--tokenizer", "whisper", "--device", "cpu", "--workers", workers, "--json",
               str(tmp_path / "good.wav"), str(tmp_path / "ch16.wav"))
    assert proc.returncode == 0, proc.stderr
    rows = {r["sample"].rsplit("/", 1)[-1]: r for r in json.loads(proc.stdout)["results"]}
    # Whisper's encoder sees one 30-s window of 1500 positions for anything up to 30 s (Radford et al., 2022)
    assert {k: (r["raw_bytes"], r["tokens"]) for k, r in rows.items()} == {
        "good.wav": (FRAMES * 2, 1500), "ch16.wav": (FRAMES * 16 * 2, 1500)}
