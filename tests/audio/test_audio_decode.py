"""Audio decoding: T = frames x channels x 2 at the native rate, and a one-line error for every bad file."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compressbench.core.errors import SampleError
from compressbench.data.audio import decode_audio, probe_audio
from compressbench.data.modalities import decoder_for
from tests.audio.signals import AUDIO_FILES, wav
from tests.conftest import FIXTURES

# fixtures/MEDIA.md: codec, rate, channels, frames as PyAV decoded them when the fixtures were made
FIXTURE_FACTS = {
    "music_minuet_g_44k_stereo_long.mp3": ("mp3", 44100, 2, 1945775),
    "music_ode_to_joy_48k_stereo.opus": ("opus", 48000, 2, 647332),
    "sfx_kenney_sequence_44k.wav": ("pcm_s16le", 44100, 1, 218440),
    "speech_de_udhr_24k.mp3": ("mp3", 24000, 1, 250767),
    "speech_en_udhr_16k.wav": ("pcm_s16le", 16000, 1, 170354),
    "speech_fr_udhr_22k.flac": ("flac", 22050, 1, 201015),
    "speech_hi_udhr_16k.flac": ("flac", 16000, 1, 220041),
    "speech_ru_udhr_48k.opus": ("opus", 48000, 1, 470159),
    "speech_zh_udhr_16k.mp3": ("mp3", 16000, 1, 210592),
}


def test_audio_is_a_registered_modality():
    assert decoder_for("audio") is decode_audio


@pytest.mark.parametrize("path", AUDIO_FILES, ids=lambda p: p.name)
def test_fixture_raw_size_is_native_pcm16(path):
    codec, rate, channels, frames = FIXTURE_FACTS[path.name]
    decoded = decode_audio(path.read_bytes())
    audio = decoded.payload
    assert (audio.sample_rate, audio.channels, audio.frames) == (rate, channels, frames)
    assert audio.samples.dtype == np.float32 and audio.samples.shape == (channels, frames)
    assert decoded.raw_bytes == frames * channels * 2
    assert decoded.meta == {"sample_rate": rate, "channels": channels, "duration_s": frames / rate, "codec": codec}


def test_every_fixture_format_is_covered():
    assert {p.suffix for p in AUDIO_FILES} >= {".flac", ".wav", ".mp3", ".opus"}
    assert len(FIXTURE_FACTS) == len(AUDIO_FILES)


def test_format_comes_from_the_content_not_the_name():
    """A WAV named .mp3 decodes (decoders never see the name); the audio track of a video decodes too."""
    data = (FIXTURES / "audio" / "speech_en_udhr_16k.wav").read_bytes()
    assert decode_audio(data).raw_bytes == 170354 * 2
    bunny = decode_audio((FIXTURES / "video" / "bigbuckbunny_3s_1280x720_audio.mp4").read_bytes())
    assert bunny.meta["codec"] == "aac" and bunny.meta["channels"] == 2 and bunny.meta["sample_rate"] == 48000


def _fixture(name: str) -> bytes:
    return (FIXTURES / "audio" / name).read_bytes()


def _half(name: str) -> bytes:
    data = _fixture(name)
    return data[: len(data) // 2]


def _corrupt() -> bytes:
    data = bytearray(_fixture("speech_fr_udhr_22k.flac"))
    data[20000:60000] = np.random.default_rng(0).integers(0, 256, 40000, dtype=np.uint8).tobytes()
    return bytes(data)


BAD = {
    "truncated WAV": (lambda: _half("speech_en_udhr_16k.wav"), "truncated WAV file"),
    "truncated WAV header": (lambda: _fixture("speech_en_udhr_16k.wav")[:30], "not a decodable audio file"),
    "truncated FLAC": (lambda: _half("speech_fr_udhr_22k.flac"), "corrupt or truncated audio after 4.39 s"),
    "truncated MP3": (lambda: _half("music_minuet_g_44k_stereo_long.mp3"),
                      "truncated or corrupt mp3 audio: decoded 22.05 s of the 44.12 s"),
    "corrupt FLAC": (_corrupt, "truncated or corrupt flac audio"),
    "random bytes": (lambda: np.random.default_rng(1).integers(0, 256, 50000, dtype=np.uint8).tobytes(),
                     "not a decodable audio file"),
    "zero-length": (lambda: b"", r"empty file \(0 bytes\)"),
    "text": (lambda: b"This is a text file, not a WAV.\n" * 20, "not a decodable audio file"),
    "video only": (lambda: (FIXTURES / "video" / "earth_nasa_4s_480x270.mp4").read_bytes(),
                   r"no audio stream in the file \(streams found: video h264\)"),
    "no frames": (lambda: wav(0), "the pcm_s16le audio stream has no frames"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_audio_is_a_one_line_sample_error(case):
    make, message = BAD[case]
    with pytest.raises(SampleError, match=message) as info:
        decode_audio(make())
    assert "\n" not in str(info.value)


def test_duration_limit_is_an_option():
    data = wav(16000 * 3)
    assert decode_audio(data, max_duration_s=5).meta["duration_s"] == 3.0
    with pytest.raises(SampleError, match="audio lasts 3.0 s, over the limit max_duration_s=2"):
        decode_audio(data, max_duration_s=2)


def test_odd_rates_and_channels():
    decoded = decode_audio(wav(8001, rate=11025, channels=3))
    assert decoded.raw_bytes == 8001 * 3 * 2 and decoded.meta["sample_rate"] == 11025 and decoded.payload.channels == 3


@pytest.mark.parametrize("path", AUDIO_FILES, ids=lambda p: p.name)
def test_probe_reads_the_same_facts_from_the_header_alone(path):
    probed, decoded = probe_audio(path.read_bytes()), decode_audio(path.read_bytes())
    assert probed.payload is None
    assert (probed.raw_bytes, probed.meta) == (decoded.raw_bytes, decoded.meta)


@pytest.mark.parametrize("case", ["zero-length", "text", "video only", "truncated WAV"])
def test_probe_refuses_bad_files_like_decode(case):
    make, message = BAD[case]
    with pytest.raises(SampleError, match=message):
        probe_audio(make())


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for index, bit in flips:
        out[index % len(out)] ^= 1 << bit
    return bytes(out)


_SEEDS = [_fixture(name)[:20000] for name in ("speech_en_udhr_16k.wav", "speech_fr_udhr_22k.flac",
                                              "speech_de_udhr_24k.mp3", "speech_ru_udhr_48k.opus")]
_FUZZ = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from(_SEEDS), st.integers(0, 20000)).map(lambda t: t[0][: t[1]]),
    st.tuples(st.sampled_from(_SEEDS), st.lists(st.tuples(st.integers(0, 19999), st.integers(0, 7)), max_size=8))
    .map(lambda t: _flip(*t)),
)


@settings(max_examples=40, deadline=None)
@given(blob=_FUZZ)
def test_mangled_audio_is_decoded_or_a_one_line_sample_error(blob):
    """Random bytes, truncations and bit flips of real files: never another exception, never a multi-line one."""
    for reader in (decode_audio, probe_audio):
        try:
            reader(blob)
        except SampleError as exc:
            assert "\n" not in str(exc)
