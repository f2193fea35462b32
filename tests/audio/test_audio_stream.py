"""Long audio decoded window by window (AudioFile) gives every row field the whole decode gives.

The same suite runs twice over the fixtures and long synthetic WAVs written here: once decoded whole,
once with ``stream_above_bytes = 1`` so that every file takes the streamed path (through the decode
workers, so the lazy payload is pickled). Rows must agree on everything but the timing fields.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import wave
from pathlib import Path

import numpy as np
import pytest

from compressbench.cli import main
from compressbench.data.audio import decode_audio
from compressbench.data.audiofile import AudioFile, scan_audio
from compressbench.data.discover import Found
from compressbench.data.formats.base import Record, Unit
from compressbench.data.suite import Dataset
from compressbench.measure import load_sample
from tests.conftest import FIXTURES

TOKENIZERS = ["whisper", "ast", "ast:target_length=128", "spectrogram:n_mels=80,hop=160",
              "spectrogram:n_mels=64,patch_time=16,patch_freq=16,window_s=2.5,pad=none", "codec:encodec_24khz"]
TIMING = {"seconds", "decode_seconds"}


def write_wav(path: Path, seconds: float, rate: int, channels: int) -> Path:
    """A chirp of round(seconds x rate) frames, 16-bit PCM, written a second at a time."""
    frames = round(seconds * rate)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        for start in range(0, frames, rate):
            t = np.arange(start, min(start + rate, frames)) / rate
            mono = (np.sin(2 * np.pi * (200 + 20 * t) * t) * 8000).astype("<i2")
            out.writeframes(np.repeat(mono[:, None], channels, axis=1).tobytes())
    return path


@pytest.fixture(scope="module")
def long_files(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("long")
    # past two Whisper windows at a rate that does not divide 16 kHz; stereo 48 kHz just over a window
    return [write_wav(d / "odd_rate_mono.wav", 61.3, 11025, 1), write_wav(d / "stereo_48k.wav", 30.5, 48000, 2)]


def _rows(tmp: Path, name: str, paths: list[Path], extra: str, *flags: str) -> dict[tuple[str, str], dict]:
    suite = tmp / f"{name}.toml"
    listed = ", ".join(json.dumps(str(p)) for p in paths)
    suite.write_text(f"tokenizers = {json.dumps(TOKENIZERS)}\n[[datasets]]\nname = \"a\"\nmodality = \"audio\"\n"
                     f"paths = [{listed}]\n{extra}")
    out = tmp / name
    assert main(["run", str(suite), "--out", str(out), "--device", "cpu", *flags]) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return {(r["sample"], r["tokenizer"]): {k: v for k, v in r.items() if k not in TIMING} for r in rows}


@pytest.mark.slow
def test_streamed_rows_equal_whole_decode(tmp_path, long_files):
    paths = sorted((FIXTURES / "audio").iterdir()) + long_files
    whole = _rows(tmp_path, "whole", paths, "", "--in-process")
    streamed = _rows(tmp_path, "streamed", paths, "options = { stream_above_bytes = 1 }\n", "--workers", "1")
    assert whole.keys() == streamed.keys()
    assert len(whole) == len(paths) * len(TOKENIZERS)
    for key, row in whole.items():
        assert row["error"] is None, row["error"]
        assert streamed[key] == row, key


def test_windows_join_to_the_whole_decode(long_files):
    path = long_files[0]
    whole = decode_audio(path.read_bytes()).payload
    audio, meta = scan_audio(path)
    assert (audio.frames, audio.channels, audio.sample_rate) == (whole.frames, whole.channels, whole.sample_rate)
    assert meta["duration_s"] == whole.duration_s
    joined = np.concatenate([w.samples for w in audio.windows(30 * audio.sample_rate)], axis=1)
    np.testing.assert_array_equal(joined, whole.samples)
    assert len(pickle.dumps(audio)) < 1000  # a path and counts, cheap to send back from a decode worker


def test_streamed_truncated_file_is_an_error_row(tmp_path):
    path = write_wav(tmp_path / "cut.wav", 40.0, 16000, 1)
    data = path.read_bytes()
    # keep the header's declared size, drop the last ten seconds, and patch the RIFF chunk to look whole
    path.write_bytes(data[: len(data) - 10 * 16000 * 2])
    with pytest.raises(Exception, match="truncated"):
        scan_audio(path)


@pytest.mark.parametrize("threshold,lazy", [(1, True), (64 << 20, False)])
def test_the_header_decides_which_path_a_file_takes(long_files, threshold, lazy):
    path = long_files[1]
    ds = Dataset(name="d", modality="audio", paths=(str(path),), base=path.parent,
                 options={"stream_above_bytes": threshold})
    sample = load_sample(ds, Record(id=path.name, unit=Unit(source=Found(path.name, path, None), format="files")))
    assert sample.error is None and isinstance(sample.payload, AudioFile) is lazy
    assert sample.raw_bytes == round(30.5 * 48000) * 2 * 2 and sample.file_bytes == path.stat().st_size
    assert sample.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_rewritten_between_the_two_decodes_is_the_samples_error(tmp_path):
    path = write_wav(tmp_path / "a.wav", 12.0, 16000, 1)
    audio, _ = scan_audio(path)
    write_wav(path, 20.0, 16000, 1)  # replaced by a longer recording before the windows are read
    with pytest.raises(Exception, match="the file changed while it was measured"):
        list(audio.windows(16000))
