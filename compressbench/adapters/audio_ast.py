"""``ast``: the patch tokens of the Audio Spectrogram Transformer (Gong et al. 2021).

As the AST repository prepares audio: 16 kHz mono, mean removed, Kaldi fbank
(128 mel bins, 25 ms Hanning window, 10 ms shift), zero-padded or cut to
``target_length`` frames (1024 for AudioSet's 10 s clips), then the patch
embedding: a Conv2d with 16x16 kernels and strides ``fstride`` x ``tstride``
over the (128 x target_length) spectrogram. At the defaults
((128 - 16) // 10 + 1) x ((1024 - 16) // 10 + 1) = 12 x 101 = 1212 patches,
whatever the clip's length; the model adds 2 prefix tokens (class and
distillation), reported apart as ``prefix_tokens``, not in N.

``input_bytes`` is the 16 kHz mono audio that exactly fills ``target_length``
frames: 400 + (target_length - 1) x 160 samples, padding included.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("ast", device="cpu").tokens_for_duration(3.0, 44100, 2)
1212
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from compressbench.adapters._audio import (AudioTokenizer, audio_count, ceil_div, conv_out, mono_waveform,
                                           ones_kernel, resampled_frames)
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount
from compressbench.data.audio import Audio
from compressbench.data.audiofile import AudioFile

SAMPLE_RATE = 16000
N_MELS = 128
WINDOW = 400  # 25 ms at 16 kHz
SHIFT = 160  # 10 ms
PATCH = 16
PREFIX_TOKENS = 2  # cls and dist tokens (DeiT-style), not counted in N


@dataclass(frozen=True)
class ASTConfig:
    target_length: int = field(default=1024, metadata={
        "help": "fbank frames the input is padded or cut to (1024 AudioSet, 512 ESC-50, 128 Speech Commands)"})
    fstride: int = field(default=10, metadata={"help": "patch stride along frequency (16 = no overlap)"})
    tstride: int = field(default=10, metadata={"help": "patch stride along time (16 = no overlap)"})


@register_tokenizer
class ASTTokenizer(AudioTokenizer):
    family = "ast"
    description = "Audio Spectrogram Transformer: 128-bin Kaldi fbank padded/cut to target_length, 16x16 patches"
    Config = ASTConfig

    def __init__(self, config: ASTConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        check_positive(self.family, fstride=config.fstride, tstride=config.tstride)
        if config.target_length < PATCH:
            raise ConfigError(f"ast: target_length must be at least one patch ({PATCH} frames), got {config.target_length}")

    @property
    def input_samples(self) -> int:
        """16 kHz samples that fill exactly ``target_length`` Kaldi frames (snip_edges)."""
        return WINDOW + (self.config.target_length - 1) * SHIFT

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "prefix_tokens": PREFIX_TOKENS}

    def _fbank(self, wave: Any) -> Any:
        """AST's dataloader features, padded or cut to target_length: (target_length, 128)."""
        import torch
        import torch.nn.functional as F
        from torchaudio.compliance import kaldi

        wave = wave[: self.input_samples]  # later frames would be cut anyway
        target = self.config.target_length
        if wave.shape[-1] < WINDOW:  # shorter than one frame: Kaldi yields none, AST pads with zeros
            fbank = torch.zeros((0, N_MELS), device=wave.device)
        else:
            fbank = kaldi.fbank((wave - wave.mean())[None], htk_compat=True, sample_frequency=SAMPLE_RATE,
                                use_energy=False, window_type="hanning", num_mel_bins=N_MELS, dither=0.0,
                                frame_shift=SHIFT * 1000 / SAMPLE_RATE, frame_length=WINDOW * 1000 / SAMPLE_RATE)
        return F.pad(fbank, (0, 0, 0, target - fbank.shape[0]))[:target]

    def count_decoded(self, clips: list[Audio]) -> list[TokenCount]:
        import torch
        import torch.nn.functional as F

        waves = [mono_waveform(clip, SAMPLE_RATE, self.device, limit=self.input_samples) for clip in clips]
        feats = torch.stack([self._fbank(wave) for wave in waves])
        x = feats.unsqueeze(1).transpose(2, 3)  # (b, 1, 128 freq, target_length time), as ASTModel.forward
        weight = ones_kernel((1, 1, PATCH, PATCH), self.device)
        patches = F.conv2d(x, weight, stride=(self.config.fstride, self.config.tstride))
        n = patches.shape[-2] * patches.shape[-1]
        return [audio_count(n, self.input_samples, clip.duration_s, prefix_tokens=PREFIX_TOKENS) for clip in clips]

    def count_file(self, audio: AudioFile) -> TokenCount:
        """A long file: only its start reaches the model (the rest is cut), so only that is decoded."""
        head = audio.head(ceil_div(self.input_samples * audio.sample_rate, SAMPLE_RATE) + 1)
        result = self.count_decoded([head])[0]
        return replace(result, counts={**result.counts, "duration_s": audio.duration_s})

    def model_rate(self, sample_rate: int) -> int:
        return SAMPLE_RATE

    def coverage(self, frames: int, sample_rate: int) -> tuple[float, int]:
        """The first ``input_samples`` at 16 kHz reach the fbank (10.255 s at the defaults: 1024 frames 10 ms
        apart, the last 25 ms long); the rest is cut."""
        samples = resampled_frames(frames, sample_rate, SAMPLE_RATE)
        span = ceil_div(self.input_samples * sample_rate, SAMPLE_RATE)
        return min(samples, self.input_samples) / samples, min(frames, span)

    def count_for_shape(self, frames: int, sample_rate: int, channels: int) -> TokenCount:
        f_dim = conv_out(N_MELS, PATCH, self.config.fstride)
        t_dim = conv_out(self.config.target_length, PATCH, self.config.tstride)
        return audio_count(f_dim * t_dim, self.input_samples, frames / sample_rate, prefix_tokens=PREFIX_TOKENS)
