"""``codec``: token accounting for neural audio codecs from their published frame rate and codebooks.

No model runs: a codec's N follows from its definition. The clip is resampled
to the codec's rate (``input_bytes``: its samples x the codec's channels x 2),
and covered by N = ceil(duration x frame_rate) frames, each carrying one token
per codebook. Both conventions are reported per sample (counts
``codec_frames`` and ``codebook_tokens`` = frames x codebooks); ``count``
chooses which one is N (and so C), and the canonical name always shows it.
The bitrate, frame_rate x codebooks x log2(codebook_size) bits/s, is in the
tokenizer's identity and the summary's ``bits_per_second`` (``tokens_per_second`` beside it).

Presets (``audio_codecs.toml``): encodec_24khz, dac_44khz, dac_24khz,
dac_16khz, mimi. Spec examples: ``codec:encodec_24khz,bandwidth_kbps=1.5``,
``codec:dac_44khz,count=frames``, ``codec:frame_rate=50,codebooks=4,codebook_size=2048``.

>>> from compressbench.core.registry import get_tokenizer
>>> tok = get_tokenizer("codec:encodec_24khz")
>>> tok.name, tok.bitrate_bps, tok.tokens_for_duration(1.0, 48000, 2)
('codec:encodec_24khz,codebooks=8,count=codebook_tokens', 6000.0, 600)
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from compressbench.adapters._audio import AudioTokenizer, audio_count, ceil_div, resampled_frames
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount
from compressbench.data.audio import Audio
from compressbench.data.audiofile import AudioFile

PRESETS_FILE = Path(__file__).with_name("audio_codecs.toml")
CONVENTIONS = ("codebook_tokens", "frames")
DEFAULT_CODEBOOK_SIZE = 1024
DEFAULT_PRESET = "encodec_24khz"  # `codec` alone; a frame_rate without a preset defines a custom codec


@cache
def presets() -> dict[str, dict[str, Any]]:
    """The codec presets table, by name."""
    with PRESETS_FILE.open("rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class CodecConfig:
    preset: str | None = field(default=None, metadata={
        "help": "a codec of audio_codecs.toml, e.g. encodec_24khz, dac_44khz (encodec_24khz unless frame_rate is given)"})
    frame_rate: float | None = field(default=None, metadata={"help": "codec frames per second (preset's if unset)"})
    codebooks: int | None = field(default=None, metadata={"help": "codebooks (RVQ levels) per frame (preset's if unset)"})
    codebook_size: int | None = field(default=None, metadata={"help": "entries per codebook (preset's, else 1024)"})
    bandwidth_kbps: float | None = field(default=None, metadata={"help": "pick codebooks by the preset's bandwidth table"})
    sample_rate: int | None = field(default=None, metadata={"help": "codec input rate in Hz (preset's; else native)"})
    channels: int | None = field(default=None, metadata={"help": "channels the codec encodes (preset's, else 1)"})
    count: str = field(default="codebook_tokens", metadata={
        "help": "what N counts: codebook_tokens (frames x codebooks) or frames"})


@dataclass(frozen=True)
class Resolved:
    """A codec definition with every value filled in."""

    preset: str | None
    frame_rate: Fraction
    codebooks: int
    codebook_size: int
    sample_rate: int | None
    channels: int


def _preset(name: str) -> dict[str, Any]:
    table = presets()
    if name not in table:
        close = difflib.get_close_matches(name, table, n=3, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown codec preset {name!r}{hint} (known: {', '.join(table)}; "
                          "or give frame_rate and codebooks)")
    return table[name]


def _codebooks(c: CodecConfig, preset: dict[str, Any]) -> int | None:
    """Codebooks from the option, the bandwidth table or the preset, refusing a contradiction."""
    if c.bandwidth_kbps is None:
        return c.codebooks if c.codebooks is not None else preset.get("codebooks")
    table = {float(k): v for k, v in preset.get("bandwidths_kbps", {}).items()}
    if c.bandwidth_kbps not in table:
        valid = ", ".join(f"{k:g}" for k in sorted(table)) or "none (this codec has no bandwidth table)"
        raise ConfigError(f"codec: bandwidth_kbps={c.bandwidth_kbps:g} is not one of {valid}")
    if c.codebooks is not None and c.codebooks != table[c.bandwidth_kbps]:
        raise ConfigError(f"codec: codebooks={c.codebooks} contradicts bandwidth_kbps={c.bandwidth_kbps:g} "
                          f"({table[c.bandwidth_kbps]} codebooks); give one of them")
    return table[c.bandwidth_kbps]


def resolve(c: CodecConfig) -> Resolved:
    """Fill a config from its preset; a ConfigError names what is missing or wrong."""
    name = c.preset if c.preset is not None or c.frame_rate is not None else DEFAULT_PRESET
    preset = _preset(name) if name is not None else {}
    if c.frame_rate is not None:
        frame_rate = Fraction(str(c.frame_rate))
    else:
        frame_rate = Fraction(preset["sample_rate"], preset["hop_length"])
    codebooks = _codebooks(c, preset)
    if codebooks is None:
        raise ConfigError("codec: codebooks is needed without a preset (e.g. codec:frame_rate=50,codebooks=4)")
    if c.count not in CONVENTIONS:
        raise ConfigError(f"codec: count must be one of {', '.join(CONVENTIONS)}, got {c.count!r}")
    resolved = Resolved(
        preset=name, frame_rate=frame_rate, codebooks=codebooks,
        codebook_size=c.codebook_size or preset.get("codebook_size", DEFAULT_CODEBOOK_SIZE),
        sample_rate=c.sample_rate or preset.get("sample_rate"), channels=c.channels or preset.get("channels", 1),
    )
    check_positive("codec", frame_rate=c.frame_rate, codebooks=resolved.codebooks, sample_rate=resolved.sample_rate,
                   channels=resolved.channels)
    if resolved.codebook_size < 2:
        raise ConfigError(f"codec: codebook_size must be at least 2, got {resolved.codebook_size}")
    return resolved


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@register_tokenizer
class CodecTokenizer(AudioTokenizer):
    family = "codec"
    description = "neural audio codec accounting (EnCodec, DAC, Mimi, custom): frames x codebooks, bitrate"
    Config = CodecConfig
    argument = "preset"
    requires = ("av",)  # decoding only: the accounting itself needs no back-end
    install_hint = "pip install av"
    uses_torch = False  # arithmetic on the clip's length: no tensor work

    def __init__(self, config: CodecConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.codec = resolve(config)
        self.mixes_to_mono = self.codec.channels == 1  # a multi-channel codec keeps each channel's band

    @classmethod
    def name_of(cls, config: CodecConfig) -> str:
        c, r = config, resolve(config)
        items = [r.preset] if r.preset else []
        if c.frame_rate is not None:
            items.append(f"frame_rate={_fmt(c.frame_rate)}")
        items.append(f"codebooks={r.codebooks}")  # shown even at the preset's default: N depends on it
        size = c.codebook_size if r.preset else r.codebook_size
        for key, value in (("codebook_size", size), ("sample_rate", c.sample_rate), ("channels", c.channels)):
            if value is not None:
                items.append(f"{key}={_fmt(value)}")
        items.append(f"count={c.count}")  # the convention is always named
        return "codec:" + ",".join(items)

    def fingerprint(self) -> str:
        """A hash of the resolved definition: the same codec named two ways is one tokenizer."""
        r = self.codec
        blob = json.dumps({"family": self.family, "frame_rate": str(r.frame_rate), "codebooks": r.codebooks,
                           "codebook_size": r.codebook_size, "sample_rate": r.sample_rate, "channels": r.channels,
                           "count": self.config.count}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def bitrate_bps(self) -> float:
        """frame_rate x codebooks x log2(codebook_size), in bits/s."""
        r = self.codec
        return float(r.frame_rate) * r.codebooks * math.log2(r.codebook_size)

    @property
    def tokens_per_second(self) -> float:
        """Tokens per second of audio under the N convention: frame_rate (x codebooks for codebook_tokens)."""
        return float(self.codec.frame_rate) * self._tokens(1)

    def identity(self) -> dict[str, Any]:
        r = self.codec
        preset = presets().get(self.codec.preset or "", {})
        return {**super().identity(), "frame_rate_hz": float(r.frame_rate), "codebooks": r.codebooks,
                "codebook_size": r.codebook_size, "codec_sample_rate": r.sample_rate, "bitrate_bps": self.bitrate_bps,
                "tokens_per_second": self.tokens_per_second,
                "tokens_convention": self.config.count, "codec": preset.get("description", "custom")}

    def _frames(self, frames: int, sample_rate: int) -> int:
        """ceil(duration x frame_rate), exactly: duration = frames / sample_rate."""
        rate = self.codec.frame_rate
        return ceil_div(frames * rate.numerator, sample_rate * rate.denominator)

    def _tokens(self, codec_frames: int) -> int:
        return codec_frames * self.codec.codebooks if self.config.count == "codebook_tokens" else codec_frames

    def count_decoded(self, clips: list[Audio]) -> list[TokenCount]:
        return [self.count_for_shape(clip.frames, clip.sample_rate, clip.channels) for clip in clips]

    def count_file(self, audio: AudioFile) -> TokenCount:
        """A long file: the same arithmetic on its frame count, nothing decoded again."""
        return self.count_for_shape(audio.frames, audio.sample_rate, audio.channels)

    def model_rate(self, sample_rate: int) -> int:
        return self.codec.sample_rate or sample_rate

    def count_for_shape(self, frames: int, sample_rate: int, channels: int) -> TokenCount:
        codec_frames = self._frames(frames, sample_rate)
        consumed = resampled_frames(frames, sample_rate, self.codec.sample_rate or sample_rate)
        return audio_count(self._tokens(codec_frames), consumed, frames / sample_rate, self.codec.channels,
                           codec_frames=codec_frames, codebook_tokens=codec_frames * self.codec.codebooks)
