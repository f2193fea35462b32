"""Audio through the real console script: good files measured, each bad one an error row, exit code 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.audio.signals import wav
from tests.conftest import FIXTURES, cli

AUDIO = FIXTURES / "audio"


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    d = tmp_path / "clips"
    d.mkdir()
    shutil.copy(AUDIO / "speech_fr_udhr_22k.flac", d / "fr.flac")
    shutil.copy(AUDIO / "speech_en_udhr_16k.wav", d / "wav_named.mp3")  # decoded by content
    shutil.copy(AUDIO / "music_minuet_g_44k_stereo_long.mp3", d / "long.mp3")
    data = (AUDIO / "speech_en_udhr_16k.wav").read_bytes()
    (d / "truncated.wav").write_bytes(data[: len(data) // 2])
    (d / "empty.wav").write_bytes(b"")
    (d / "text.wav").write_text("not audio at all\n" * 10)
    (d / "no_frames.wav").write_bytes(wav(0))
    shutil.copy(FIXTURES / "video" / "earth_nasa_4s_480x270.mp4", d / "video_only.mp4")
    return d


def test_measure_audio_dir_with_good_and_bad_files(audio_dir):
    proc = cli("measure", "-t", "whisper", "-t", "codec:dac_44khz", "--json", str(audio_dir))
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    rows = {(Path(r["sample"]).name, r["tokenizer"]): r for r in out["results"]}
    whisper = {name: r for (name, tok), r in rows.items() if tok == "whisper"}
    assert {n: r["tokens"] for n, r in whisper.items() if r["error"] is None} == {
        "fr.flac": 1500, "wav_named.mp3": 1500, "long.mp3": 3000}
    assert whisper["long.mp3"]["raw_bytes"] == 1945775 * 2 * 2 and whisper["long.mp3"]["input_bytes"] == 2 * 480000 * 2
    assert whisper["fr.flac"]["sample_rate"] == 22050 and whisper["fr.flac"]["codec"] == "flac"
    expected = {
        "truncated.wav": "truncated WAV file",
        "empty.wav": "empty file (0 bytes)",
        "text.wav": "not a decodable audio file",
        "no_frames.wav": "has no frames",
        "video_only.mp4": "no audio stream in the file",
    }
    for name, message in expected.items():
        for tok in ("whisper", "codec:dac_44khz,codebooks=9,count=codebook_tokens"):
            error = rows[(name, tok)]["error"]
            assert message in error and "\n" not in error and rows[(name, tok)]["tokens"] is None
    summary = {r["tokenizer"]: r for r in out["summary"]}
    assert summary["whisper"]["samples"] == 8 and summary["whisper"]["errors"] == 5
    assert summary["whisper"]["duration_s"] == pytest.approx(9.116326530612245 + 10.647125 + 44.1218820861678)
    dac = out["tokenizers"]["codec:dac_44khz,codebooks=9,count=codebook_tokens"]
    assert dac["bitrate_bps"] == pytest.approx(44100 / 512 * 9 * 10) and dac["tokens_convention"] == "codebook_tokens"


def test_count_only_gives_the_measured_rows_from_headers(audio_dir):
    """--count-only reads headers (no decode) and must agree with the full measurement, bad files included."""
    specs = ["-t", "whisper", "-t", "ast", "-t", "codec:encodec_24khz", "-t", "spectrogram"]
    full = json.loads(cli("measure", *specs, "--json", str(audio_dir)).stdout)["results"]
    proc = cli("measure", *specs, "--count-only", "--json", str(audio_dir))
    assert proc.returncode == 1, proc.stderr
    probed = {(r["sample"], r["tokenizer"]): r for r in json.loads(proc.stdout)["results"]}
    assert len(probed) == len(full) == 4 * 8
    for row in full:
        twin = probed[(row["sample"], row["tokenizer"])]
        keys = ("raw_bytes", "input_bytes", "tokens", "duration_s", "sample_rate", "channels")
        assert {k: twin.get(k) for k in keys} == {k: row.get(k) for k in keys}
        assert (twin["error"] is None) == (row["error"] is None)
        assert row["error"] is not None or twin["counted_from"] == "header"
