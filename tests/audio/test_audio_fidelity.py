"""What an audio model's input keeps: input_coverage (the time its windows see) and input_energy_share (the
energy below its Nyquist), on constructed signals and against numpy's FFT of the same decoded samples."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from compressbench.core.registry import get_tokenizer
from compressbench.data.audio import Audio, decode_audio
from compressbench.data.audiofile import scan_audio
from tests.conftest import FIXTURES

CLIP_VIDEO = FIXTURES / "video" / "pan_hubble_h264_320x180.mp4"


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """16-bit PCM WAV (channels x frames in [-1, 1]) through the standard library's ``wave`` module."""
    pcm = np.clip(np.round(samples.T * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(samples.shape[0])
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(pcm.tobytes())
    return path


def noise(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (channels, round(seconds * rate)))


def tone(seconds: float, rate: int, freq: float) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * freq * np.arange(round(seconds * rate)) / rate)[None]


def numpy_share(samples: np.ndarray, rate: int, model_rate: int, mix: bool = True) -> float:
    """Independent truth: one numpy FFT of the whole (mixed) signal, energy below model_rate / 2 over all."""
    x = samples.astype(np.float64)
    x = x.mean(axis=0, keepdims=True) if mix else x
    power = np.abs(np.fft.rfft(x, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[-1], d=1 / rate)
    return float(power[:, freqs < model_rate / 2].sum() / power.sum())


def decoded(path: Path) -> Audio:
    return decode_audio(path.read_bytes()).payload


def test_white_noise_at_44k_through_whisper_keeps_8_of_22_khz(tmp_path):
    clip = decoded(write_wav(tmp_path / "noise.wav", noise(3.0, 44100), 44100))
    result = get_tokenizer("whisper", device="cpu").count(clip)
    assert result.counts["input_coverage"] == 1.0  # 30 s windows, the last one padded: all of it
    assert result.counts["input_energy_share"] == pytest.approx(8 / 22.05, abs=0.01)
    assert result.counts["input_energy_share"] == pytest.approx(numpy_share(clip.samples, 44100, 16000), abs=2e-3)


def test_a_tone_below_the_cutoff_keeps_everything_and_one_above_it_nothing(tmp_path):
    whisper = get_tokenizer("whisper", device="cpu")
    low = whisper.count(decoded(write_wav(tmp_path / "1k.wav", tone(2.0, 44100, 1000), 44100)))
    high = whisper.count(decoded(write_wav(tmp_path / "12k.wav", tone(2.0, 44100, 12000), 44100)))
    assert low.counts["input_energy_share"] == pytest.approx(1.0, abs=1e-4)
    assert high.counts["input_energy_share"] < 1e-3  # above 8 kHz: resampling to 16 kHz removes it


@pytest.mark.parametrize("spec", ["whisper", "ast", "codec:dac_16khz"])
def test_a_model_at_or_above_the_source_rate_keeps_the_whole_band(spec):
    clip = Audio(samples=noise(1.0, 16000).astype(np.float32), sample_rate=16000)
    assert get_tokenizer(spec, device="cpu").count(clip).counts["input_energy_share"] == 1.0


def test_channels_are_mixed_as_the_model_mixes_them():
    """Mono models hear the channels' mean; a two-channel codec keeps each channel, energies summed."""
    left = noise(2.0, 44100)
    cancelling = Audio(samples=np.concatenate([left, -left]).astype(np.float32), sample_rate=44100)
    mono = get_tokenizer("whisper", device="cpu").count(cancelling)
    assert "input_energy_share" not in mono.counts  # the mix is digital silence: no energy, no share
    stereo = get_tokenizer("codec:frame_rate=50,codebooks=4,sample_rate=16000,channels=2").count(cancelling)
    expected = numpy_share(cancelling.samples, 44100, 16000, mix=False)
    assert stereo.counts["input_energy_share"] == pytest.approx(expected, abs=2e-3)
    assert expected == pytest.approx(8 / 22.05, abs=0.01)


def test_ast_sees_its_first_10_255_seconds_and_measures_only_them(tmp_path):
    rate = 22050
    signal = np.concatenate([tone(10.3, rate, 1000), noise(19.7, rate)], axis=1)  # a tone, then noise
    path = write_wav(tmp_path / "long.wav", signal, rate)
    ast = get_tokenizer("ast", device="cpu")
    whole = ast.count(decoded(path))
    seen = 400 + 1023 * 160  # 16 kHz samples of 1024 Kaldi frames: 10.255 s
    assert whole.counts["input_coverage"] == pytest.approx(seen / 16000 / 30.0)
    assert whole.counts["input_energy_share"] == pytest.approx(1.0, abs=1e-3)  # the noise after 10.3 s is unseen
    streamed = ast.count(scan_audio(path)[0])  # a long file, read window by window
    assert streamed.counts == pytest.approx(whole.counts, rel=1e-9)
    header = ast.count_from_meta({"duration_s": 3600.0, "sample_rate": 44100, "channels": 2})  # an hour
    assert header.counts["input_coverage"] == pytest.approx(10.255 / 3600) and "input_energy_share" not in header.counts


@pytest.mark.parametrize("spec, model_rate", [("whisper", 16000), ("codec:encodec_24khz", 24000)])
def test_a_long_file_streamed_gives_the_whole_decode_s_share(tmp_path, spec, model_rate):
    """Whisper reads the file window by window (the energy is taken in that pass); the codec reads nothing,
    so the energy takes one pass of its own. Both equal the in-memory clip and numpy's FFT."""
    rate = 32000
    path = write_wav(tmp_path / "noise.wav", noise(65.0, rate, channels=2), rate)
    tok = get_tokenizer(spec, device="cpu")
    clip = decoded(path)
    streamed = tok.count(scan_audio(path)[0]).counts["input_energy_share"]
    assert streamed == pytest.approx(tok.count(clip).counts["input_energy_share"], rel=1e-9)
    assert streamed == pytest.approx(numpy_share(clip.samples, rate, model_rate), abs=1e-3)
    assert streamed == pytest.approx(model_rate / rate, abs=0.01)


@pytest.mark.parametrize("spec, coverage", [
    ("spectrogram", 1.0),
    ("spectrogram:window_s=2,pad=none", 4 / 5),  # the last 1 s window is dropped
    ("spectrogram:window_s=2", 1.0),  # ... or padded
    # 16 kHz: frames of 400 samples 300 apart, not centred: the last one ends at 265 x 300 + 400
    ("spectrogram:center=false,n_fft=400,hop=300", (265 * 300 + 400) / 80000),
    # patches of 2 centred 100-sample frames, 5 frames (800 samples) apart: 260 samples each, the first cut to
    # 210 at the start, the last patch (frame 500 alone) to 50 at the end; 101 patches over 80000 samples
    ("spectrogram:n_mels=32,patch_time=2,stride_time=5,n_fft=100,hop=160", (210 + 99 * 260 + 50) / 80000),
    ("codec:encodec_24khz", 1.0),
])
def test_spectrogram_and_codec_coverage_measured_equals_header(spec, coverage):
    clip = Audio(samples=noise(5.0, 44100, channels=2).astype(np.float32), sample_rate=44100)
    tok = get_tokenizer(spec, device="cpu")
    measured = tok.count(clip).counts
    assert measured["input_coverage"] == pytest.approx(coverage, rel=1e-12)
    header = tok.count_from_meta({"duration_s": 5.0, "sample_rate": 44100, "channels": 2}).counts
    assert header["input_coverage"] == measured["input_coverage"]


@pytest.mark.slow
def test_a_run_reports_each_sample_and_the_dataset_mean_with_units(tmp_path):
    """Through the console script: results.jsonl holds each sample's values, summary.json their mean and unit;
    --count-only gives the coverage from the headers (the energy needs the samples)."""
    import json
    import shutil

    from tests.conftest import cli

    (tmp_path / "audio").mkdir()
    (tmp_path / "video").mkdir()
    write_wav(tmp_path / "audio" / "noise.wav", noise(2.0, 44100), 44100)
    write_wav(tmp_path / "audio" / "tone.wav", tone(12.0, 32000, 1000), 32000)
    shutil.copy(CLIP_VIDEO, tmp_path / "video" / "clip.mp4")
    (tmp_path / "suite.toml").write_text(
        'name = "kept"\ntokenizers = ["ast", "qwen2vl-video"]\n'
        '[[datasets]]\nname = "sounds"\nmodality = "audio"\npaths = ["audio"]\n'
        '[[datasets]]\nname = "clips"\nmodality = "video"\npaths = ["video"]\n')
    runs = {}
    for name, flags in (("decoded", ()), ("headers", ("--count-only",))):
        proc = cli("run", str(tmp_path / "suite.toml"), "--out", str(tmp_path / name), *flags)
        assert proc.returncode == 0, proc.stderr
        rows = [json.loads(line) for line in (tmp_path / name / "results.jsonl").read_text().splitlines()]
        runs[name] = ({(Path(r["sample"]).name, r["tokenizer"]): r for r in rows},
                      json.loads((tmp_path / name / "summary.json").read_text()))
    rows, summary = runs["decoded"]
    seen = (400 + 1023 * 160) / 16000  # AST's 1024 Kaldi frames: 10.255 s
    assert rows[("noise.wav", "ast")]["input_coverage"] == 1.0
    assert rows[("tone.wav", "ast")]["input_coverage"] == pytest.approx(seen / 12.0)
    assert rows[("noise.wav", "ast")]["input_energy_share"] == pytest.approx(8 / 22.05, abs=0.01)
    assert rows[("tone.wav", "ast")]["input_energy_share"] == pytest.approx(1.0, abs=1e-4)
    assert rows[("clip.mp4", "qwen2vl-video")]["input_frame_share"] == pytest.approx(1 / 15)
    by_key = {(r["dataset"], r["tokenizer"]): r for r in summary["rows"]}
    for key in ("input_coverage", "input_energy_share"):
        mean = (rows[("noise.wav", "ast")][key] + rows[("tone.wav", "ast")][key]) / 2
        assert by_key[("sounds", "ast")][key] == pytest.approx(mean, rel=1e-12)  # the mean, not the sum
        assert "0-1" in summary["units"][key] and "mean over samples" in summary["units"][key]
    assert by_key[("clips", "qwen2vl-video")]["input_frame_share"] == pytest.approx(1 / 15)
    headers, _ = runs["headers"]
    for key, row in rows.items():
        assert headers[key]["input_coverage"] == pytest.approx(row["input_coverage"], rel=1e-9)
        assert "input_energy_share" not in headers[key] or headers[key]["input_energy_share"] is None
    assert headers[("clip.mp4", "qwen2vl-video")]["input_frame_share"] == rows[("clip.mp4", "qwen2vl-video")][
        "input_frame_share"]


@pytest.mark.cuda
def test_the_energy_share_on_cuda_equals_the_cpu_s():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    clip = Audio(samples=noise(3.0, 44100, channels=2).astype(np.float32), sample_rate=44100)
    on_cpu = get_tokenizer("whisper", device="cpu").count(clip).counts
    on_gpu = get_tokenizer("whisper", device="cuda").count(clip).counts
    assert on_gpu["input_energy_share"] == pytest.approx(on_cpu["input_energy_share"], rel=1e-5)
