"""Audio throughput: decode and tokenize apart, each beside the bare library call on the same clips.

    .venv/bin/python -m pytest benchmarks/test_audio.py --benchmark-only --benchmark-group-by=group

Tokenize runs on the CPU and, when torch sees a GPU, on cuda (synchronised,
after a warm-up round). Raw MB/s = the clips' T (16-bit PCM at the native
rate) over the mean time; tokens/s = N over the mean time (printed in
``extra_info``).
"""

from __future__ import annotations

import io

import pytest
import torch

from compressbench import get_tokenizer
from compressbench.data.audio import decode_audio
from benchmarks.conftest import ROOT, rates

AUDIO = sorted((ROOT / "fixtures" / "audio").iterdir())
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def files() -> list[bytes]:
    return [p.read_bytes() for p in AUDIO]


@pytest.fixture(scope="module")
def clips(files):
    return [decode_audio(data).payload for data in files]


def _synced(device: str, fn):
    def run():
        out = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return out
    return run


def test_decode_bare_pyav(benchmark, files):
    import av

    def decode():
        total = 0
        for data in files:
            with av.open(io.BytesIO(data)) as c:
                total += sum(f.samples for f in c.decode(audio=0))
        return total

    benchmark.group = "decode audio"
    assert benchmark(decode) > 0


def test_decode_compressbench(benchmark, files, clips):
    benchmark.group = "decode audio"
    benchmark(lambda: [decode_audio(data) for data in files])
    rates(benchmark, sum(c.raw_bytes for c in clips), 0)


@pytest.mark.parametrize("device", DEVICES)
def test_bare_melspectrogram(benchmark, clips, device):
    """torchaudio alone: resample to 16 kHz mono and a 80-bin MelSpectrogram (whisper's front end, unpadded)."""
    import torchaudio

    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, hop_length=160, n_mels=80).to(device)
    waves = [torch.from_numpy(c.samples).to(device) for c in clips]

    def run():
        return [mel(torchaudio.functional.resample(w.mean(0), c.sample_rate, 16000)).shape[-1]
                for w, c in zip(waves, clips)]

    benchmark.group = f"tokenize audio {device}"
    run()  # warm-up
    benchmark(_synced(device, run))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", ["whisper", "ast", "spectrogram"])
def test_compressbench_audio(benchmark, clips, spec, device):
    tok = get_tokenizer(spec, device=device)
    tok.count_batch(clips)  # warm-up (filterbanks, kernels)
    benchmark.group = f"tokenize audio {device}"
    results = benchmark(_synced(device, lambda: tok.count_batch(clips)))
    rates(benchmark, sum(c.raw_bytes for c in clips), sum(r.tokens for r in results))


def test_bare_codec_arithmetic(benchmark, clips):
    """EnCodec 24 kHz at 6 kbps by hand: ceil(duration x 75 Hz) frames x 8 codebooks."""
    import math

    benchmark.group = "tokenize codec"
    benchmark(lambda: sum(math.ceil(c.samples.shape[-1] / c.sample_rate * 75) * 8 for c in clips))


def test_compressbench_codec(benchmark, clips):
    tok = get_tokenizer("codec:encodec_24khz")
    benchmark.group = "tokenize codec"
    results = benchmark(lambda: tok.count_batch(clips))
    rates(benchmark, sum(c.raw_bytes for c in clips), sum(r.tokens for r in results))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", ["whisper", "ast", "codec:encodec_24khz"])
@pytest.mark.parametrize("kept", [False, True], ids=["tokens_only", "with_input_kept"])
def test_input_kept_overhead(benchmark, clips, spec, device, kept):
    """What input_coverage and input_energy_share cost: the adapter's tensor work alone (count_decoded) beside
    the full count_batch, which adds them (the energy below the model's Nyquist: an FFT of every clip). Read the
    ratio of the two means in each group."""
    tok = get_tokenizer(spec, device=device)

    def tokens_only():
        with torch.inference_mode():
            return tok.count_decoded(clips)

    run = (lambda: tok.count_batch(clips)) if kept else tokens_only
    run()  # warm-up
    benchmark.group = f"input kept {spec} {device}"
    results = benchmark(_synced(device, run))
    assert all(("input_energy_share" in r.counts) == kept for r in results)
    rates(benchmark, sum(c.raw_bytes for c in clips), sum(r.tokens for r in results))
