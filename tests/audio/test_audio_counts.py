"""Audio token counts against reference formulas written here from the models' published definitions.

The references do not use compressbench's arithmetic: they restate each model
(openai/whisper's audio.py and encoder, the AST paper and repository, the
EnCodec and DAC papers) with exact fractions.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch

from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.registry import get_tokenizer, list_families
from compressbench.core.sample import TokenCount
from compressbench.data.audio import Audio, probe_audio
from tests.audio.signals import AUDIO_FILES, SYNTHETIC, decoded, sine

AUDIO_FAMILIES = [name for name, entry in list_families().items() if entry.cls.modality == "audio"]
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device")])]


def seconds(clip: Audio) -> Fraction:
    return Fraction(clip.frames, clip.sample_rate)


def at_rate(clip: Audio, rate: int) -> int:
    """Samples after resampling to ``rate`` (a resampler keeps ceil(frames x rate / native))."""
    return math.ceil(Fraction(clip.frames * rate, clip.sample_rate))


def whisper_ref(clip: Audio) -> tuple[int, int]:
    """openai/whisper: 30 s windows of 480000 samples at 16 kHz -> 3000 mel frames -> stride-2 conv -> 1500."""
    windows = math.ceil(seconds(clip) / 30)
    return windows * 1500, windows * 480000 * 2


def ast_ref(target_length: int = 1024, fstride: int = 10, tstride: int = 10):
    """AST: 128 x target_length fbank, 16 x 16 patches at the given strides; input = target_length frames of 10 ms."""
    def ref(clip: Audio) -> tuple[int, int]:
        f_dim = (128 - 16) // fstride + 1
        t_dim = (target_length - 16) // tstride + 1
        return f_dim * t_dim, (400 + (target_length - 1) * 160) * 2
    return ref


def mel_frames_ref(clip: Audio) -> tuple[int, int]:
    """One token per centred 10 ms STFT frame at 16 kHz: 1 + floor(L / 160)."""
    samples = at_rate(clip, 16000)
    return 1 + samples // 160, samples * 2


def mel_patches_ref(clip: Audio) -> tuple[int, int]:
    """ViT-style 16 x 16 patches over 128 mel bins, last partial patch zero-padded."""
    samples = at_rate(clip, 16000)
    return math.ceil(128 / 16) * math.ceil((1 + samples // 160) / 16), samples * 2


def codec_ref(frame_rate: Fraction, codebooks: int, rate: int, per_codebook: bool = True):
    """Codec frames = ceil(duration x frame rate); tokens per frame = codebooks (or 1 when counting frames)."""
    def ref(clip: Audio) -> tuple[int, int]:
        frames = math.ceil(seconds(clip) * frame_rate)
        return frames * (codebooks if per_codebook else 1), at_rate(clip, rate) * 2
    return ref


REFERENCES = {
    "whisper": whisper_ref,
    "whisper:n_mels=128": whisper_ref,
    "ast": ast_ref(),
    "ast:target_length=512,fstride=16,tstride=16": ast_ref(512, 16, 16),
    "spectrogram:n_mels=80,hop=160": mel_frames_ref,
    "spectrogram:n_mels=128,patch_time=16,patch_freq=16": mel_patches_ref,
    "codec:encodec_24khz": codec_ref(Fraction(75), 8, 24000),
    "codec:encodec_24khz,bandwidth_kbps=1.5": codec_ref(Fraction(75), 2, 24000),
    "codec:dac_44khz,count=frames": codec_ref(Fraction(44100, 512), 9, 44100, per_codebook=False),
}


# one configuration per family on the synthetic signals (resampling odd rates is the slow part on a CPU)
SYNTHETIC_SPECS = ["whisper", "ast", "spectrogram:n_mels=128,patch_time=16,patch_freq=16", "codec:dac_44khz,count=frames"]


@pytest.fixture(scope="module")
def tokenizers():
    return {(spec, "cpu"): get_tokenizer(spec, device="cpu") for spec in REFERENCES}


def tokenizer(cache, spec, device):
    if (spec, device) not in cache:
        cache[(spec, device)] = get_tokenizer(spec, device=device)
    return cache[(spec, device)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", REFERENCES)
def test_fixture_clips_match_the_reference(tokenizers, spec, device):
    tok = tokenizer(tokenizers, spec, device)
    clips = {p.name: decoded(p.name) for p in AUDIO_FILES}
    results = dict(zip(clips, tok.count_batch(list(clips.values()))))
    measured = {name: (r.tokens, r.input_bytes) for name, r in results.items()}
    assert measured == {name: REFERENCES[spec](clip) for name, clip in clips.items()}
    for name, clip in clips.items():
        assert results[name].counts["duration_s"] == clip.duration_s
        assert tok.tokens_for_duration(clip.duration_s, clip.sample_rate, clip.channels) == results[name].tokens


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SYNTHETIC_SPECS)
def test_synthetic_signals_match_the_reference(tokenizers, spec, device):
    tok = tokenizer(tokenizers, spec, device)
    clips = [sine(*shape) for shape in SYNTHETIC]
    measured = [(r.tokens, r.input_bytes) for r in tok.count_batch(clips)]
    assert measured == [REFERENCES[spec](clip) for clip in clips]
    assert [tok.tokens_for_duration(*shape) for shape in SYNTHETIC] == [n for n, _ in measured]


def test_whisper_published_counts(tokenizers):
    whisper = tokenizers[("whisper", "cpu")]
    assert whisper.count(decoded("speech_en_udhr_16k.wav")).tokens == 1500  # 10.6 s: one window
    assert whisper.count(decoded("music_minuet_g_44k_stereo_long.mp3")).tokens == 3000  # 44.1 s: two windows
    shapes = [(0.1, 16000), (30.0, 16000), (30.01, 16000), (61.0, 22050)]
    assert [r.tokens for r in whisper.count_batch([sine(s, r) for s, r in shapes])] == [1500, 1500, 3000, 4500]


def test_ast_is_1212_patches_for_any_clip(tokenizers):
    ast = tokenizers[("ast", "cpu")]
    clips = [decoded(p.name) for p in AUDIO_FILES] + [sine(0.01, 16000), sine(20.0, 8000, 2)]
    assert {(r.tokens, r.counts["prefix_tokens"]) for r in ast.count_batch(clips)} == {(1212, 2)}
    assert ast.identity()["prefix_tokens"] == 2


def test_codec_reports_both_conventions_and_the_bitrate():
    clip = decoded("speech_en_udhr_16k.wav")  # 10.647125 s
    encodec = get_tokenizer("codec:encodec_24khz,codebooks=8")
    assert encodec.name == "codec:encodec_24khz,codebooks=8,count=codebook_tokens"
    result = encodec.count(clip)
    assert result.counts["codec_frames"] == 799 and result.counts["codebook_tokens"] == result.tokens == 799 * 8
    assert encodec.identity()["bitrate_bps"] == 6000 and encodec.identity()["tokens_convention"] == "codebook_tokens"
    frames = get_tokenizer("codec:dac_44khz,count=frames")
    assert frames.name == "codec:dac_44khz,codebooks=9,count=frames"
    dac_frames = math.ceil(Fraction(170354, 16000) * Fraction(44100, 512))
    assert frames.count(clip).tokens == frames.count(clip).counts["codec_frames"] == dac_frames
    assert frames.bitrate_bps == pytest.approx(44100 / 512 * 9 * 10)
    custom = get_tokenizer("codec:frame_rate=50,codebooks=4,codebook_size=2048")
    assert custom.bitrate_bps == 50 * 4 * 11 and custom.count(clip).tokens == 533 * 4
    assert custom.count(clip).input_bytes == 170354 * 2  # no codec rate given: the native rate is kept
    for kbps, books in {1.5: 2, 3: 4, 6: 8, 12: 16, 24: 32}.items():
        tok = get_tokenizer(f"codec:encodec_24khz,bandwidth_kbps={kbps}")
        assert tok.codec.codebooks == books and tok.bitrate_bps == kbps * 1000


def test_spectrogram_padding_policies():
    clip = sine(2.5, 16000)
    counts = {pad: get_tokenizer(f"spectrogram:window_s=1,pad={pad}").count(clip) for pad in ("none", "zero", "repeat")}
    assert counts["none"].tokens == 2 * 101 and counts["none"].input_bytes == 2 * 16000 * 2
    assert counts["zero"].tokens == counts["repeat"].tokens == 3 * 101
    patches = get_tokenizer("spectrogram:n_mels=128,patch_freq=16,patch_time=16,stride_freq=10,stride_time=10,pad=none")
    frames = 1 + 40000 // 160  # 251
    assert patches.count(clip).tokens == ((128 - 16) // 10 + 1) * ((frames - 16) // 10 + 1)


@pytest.mark.parametrize("family", AUDIO_FAMILIES)
def test_every_audio_family_counts_what_its_header_predicts(family):
    """Follows the registry: a new audio adapter is held to count-only = measured and clean errors."""
    tok = get_tokenizer(family, device="cpu")
    clips = [decoded(p.name) for p in AUDIO_FILES]
    batch = tok.count_batch(clips + ["not audio"])
    assert isinstance(batch[-1], SampleError)
    for path, clip, result in zip(AUDIO_FILES, clips, batch):
        assert result.tokens == tok.tokens_for_duration(clip.duration_s, clip.sample_rate, clip.channels) > 0
        header = probe_audio(path.read_bytes()).meta  # what a --count-only run knows
        assert result.tokens == tok.tokens_for_duration(header["duration_s"], header["sample_rate"], header["channels"])
        measured = {k: v for k, v in result.counts.items() if k != "input_energy_share"}  # that needs the samples
        assert tok.count_from_meta(header) == TokenCount(result.tokens, result.input_bytes, measured)  # counts too
        assert result.input_bytes > 0 and result.counts["duration_s"] == clip.duration_s
    assert tok.count(clips[0]) == batch[0]
    with pytest.raises(SampleError, match="no frames"):
        tok.count(Audio(samples=torch.zeros((1, 0)).numpy(), sample_rate=16000))


@pytest.mark.parametrize("spec, message", [
    ("whisper:n_mels=81", "n_mels must be 80 or 128"),
    ("ast:target_length=8", "at least one patch"),
    ("ast:fstride=0", "fstride must be a positive integer"),
    ("spectrogram:pad=wrap", "pad must be one of none, zero, repeat"),
    ("spectrogram:n_mels=64,patch_freq=80,pad=none", "exceeds n_mels"),
    ("codec:encodec", "unknown codec preset 'encodec'; did you mean: encodec_24khz"),
    ("codec:encodec_24khz,bandwidth_kbps=6,codebooks=4", "contradicts"),
    ("codec:dac_44khz,bandwidth_kbps=6", "not one of none"),
    ("codec:frame_rate=50", "codebooks is needed"),
    ("codec:dac_44khz,count=tokens", "count must be one of codebook_tokens, frames"),
])
def test_bad_configs_name_the_fix(spec, message):
    with pytest.raises(ConfigError, match=message):
        get_tokenizer(spec, device="cpu")
