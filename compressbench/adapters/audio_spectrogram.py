"""``spectrogram``: a generic mel-spectrogram frame or patch tokenizer, every parameter an option.

For users' own designs, e.g. ``spectrogram:n_mels=80,hop=160`` (one token per
10 ms frame) or ``spectrogram:n_mels=128,patch_time=16,patch_freq=16`` (ViT
patches). The audio is mixed to mono and resampled to ``sample_rate`` (native
when unset), optionally cut into fixed windows of ``window_s``, turned into a
mel spectrogram (n_fft, hop, n_mels, centred frames or not), and cut into
patches of ``patch_freq`` x ``patch_time`` at strides ``stride_freq`` x
``stride_time``, each patch one token. N is read off a Conv2d's output.

N, for a clip of F frames at rate r:

- L = ceil(F x sr / r) samples at sr = ``sample_rate`` (or r);
- windows: with ``window_s``, W = round(window_s x sr) samples and
  k = ceil(L / W) windows (the last one padded), or floor(L / W) with
  ``pad=none`` (the partial one dropped); without it k = 1 and W = L;
- frames per window: T = 1 + floor(W / hop) when ``center``, else
  floor((W - n_fft) / hop) + 1 (0 when W < n_fft);
- patches along an axis of length n, patch p, stride s:
  g(n) = floor((n - p) / s) + 1 with ``pad=none`` (0 when n < p), else
  ceil(max(n - p, 0) / s) + 1 (the last partial patch padded with zeros, or by
  repeating the edge with ``pad=repeat``);
- N = k x g(n_mels; patch_freq, stride_freq) x g(T; patch_time, stride_time).

``input_bytes`` counts the mono resampled samples consumed: k x W with
windows, else L.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("spectrogram:n_mels=80,hop=160", device="cpu").tokens_for_duration(1.0, 16000, 1)
101
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compressbench.adapters._audio import (AudioTokenizer, audio_count, batched_windows, ceil_div, check_pad,
                                           conv_out, grid, mono_waveform, ones_kernel,
                                           resampled_frames)
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount
from compressbench.data.audio import Audio

WINDOWS_PER_BATCH = 32


@dataclass(frozen=True)
class SpectrogramConfig:
    sample_rate: int | None = field(default=16000, metadata={"help": "resample to this rate in Hz (none: native)"})
    n_fft: int = field(default=400, metadata={"help": "STFT size in samples"})
    hop: int = field(default=160, metadata={"help": "STFT hop in samples"})
    n_mels: int = field(default=80, metadata={"help": "mel bins"})
    center: bool = field(default=True, metadata={"help": "centred STFT frames (1 + L // hop of them)"})
    patch_time: int = field(default=1, metadata={"help": "patch length in frames (1: one token per frame)"})
    patch_freq: int | None = field(default=None, metadata={"help": "patch height in mel bins (none: all n_mels)"})
    stride_time: int | None = field(default=None, metadata={"help": "patch stride in frames (none: patch_time)"})
    stride_freq: int | None = field(default=None, metadata={"help": "patch stride in mel bins (none: patch_freq)"})
    pad: str = field(default="zero", metadata={
        "help": "last partial window/patch: none (dropped), zero (zero-padded) or repeat (edge repeated)"})
    window_s: float | None = field(default=None, metadata={"help": "cut audio into fixed windows of this many seconds"})


@register_tokenizer
class SpectrogramTokenizer(AudioTokenizer):
    family = "spectrogram"
    description = "generic mel-spectrogram frames or patches: rate, n_fft, hop, mels, patch, stride, pad all options"
    Config = SpectrogramConfig

    def __init__(self, config: SpectrogramConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        c = config
        check_positive(self.family, sample_rate=c.sample_rate, n_fft=c.n_fft, hop=c.hop, n_mels=c.n_mels,
                       patch_time=c.patch_time, patch_freq=c.patch_freq, stride_time=c.stride_time,
                       stride_freq=c.stride_freq, window_s=c.window_s)
        check_pad(self.family, c.pad)
        self.patch = (c.patch_freq or c.n_mels, c.patch_time)
        self.stride = (c.stride_freq or self.patch[0], c.stride_time or self.patch[1])
        if self.patch[0] > c.n_mels and c.pad == "none":
            raise ConfigError(f"spectrogram: patch_freq={self.patch[0]} exceeds n_mels={c.n_mels} and pad=none "
                              "leaves no patch; lower patch_freq or pad")
        self._mels: dict[int, Any] = {}

    def _rate(self, native: int) -> int:
        return self.config.sample_rate or native

    def _window(self, rate: int) -> int | None:
        """Window length in samples, or None without windows."""
        if self.config.window_s is None:
            return None
        size = round(self.config.window_s * rate)
        if size < 1:
            raise ConfigError(f"spectrogram: window_s={self.config.window_s} is under one sample at {rate} Hz")
        return size

    def _mel(self, rate: int) -> Any:
        import torchaudio

        if rate not in self._mels:  # the filterbank depends on the rate (native rates vary by clip)
            c = self.config
            self._mels[rate] = torchaudio.transforms.MelSpectrogram(
                sample_rate=rate, n_fft=c.n_fft, hop_length=c.hop, n_mels=c.n_mels, center=c.center,
                pad_mode="constant",  # reflection needs more samples than half a window; N is the same
                mel_scale="slaney", norm="slaney",  # librosa's filters (as whisper): no empty bands at 128 mels
            ).to(self.device)
        return self._mels[rate]

    def _patches(self, waves: Any, rate: int) -> int:
        """Patches per row of a batch of equal-length waves (b, samples), from the real tensors."""
        import torch.nn.functional as F

        c = self.config
        if not c.center and waves.shape[-1] < c.n_fft:
            return 0
        mel = self._mel(rate)(waves).unsqueeze(1)  # (b, 1, n_mels, frames)
        if c.pad != "none":
            pad_f = (grid(mel.shape[-2], self.patch[0], self.stride[0], True) - 1) * self.stride[0] + self.patch[0]
            pad_t = (grid(mel.shape[-1], self.patch[1], self.stride[1], True) - 1) * self.stride[1] + self.patch[1]
            mode = "replicate" if c.pad == "repeat" else "constant"
            mel = F.pad(mel, (0, max(0, pad_t - mel.shape[-1]), 0, max(0, pad_f - mel.shape[-2])), mode=mode)
        if mel.shape[-2] < self.patch[0] or mel.shape[-1] < self.patch[1]:
            return 0
        out = F.conv2d(mel, ones_kernel((1, 1, *self.patch), self.device), stride=self.stride)
        return out.shape[-2] * out.shape[-1]

    def count_decoded(self, clips: list[Audio]) -> list[TokenCount]:
        results: list[TokenCount | None] = [None] * len(clips)
        by_rate: dict[int, list[int]] = {}
        for i, clip in enumerate(clips):
            by_rate.setdefault(self._rate(clip.sample_rate), []).append(i)
        for rate, members in by_rate.items():
            waves = [mono_waveform(clips[i], rate, self.device) for i in members]
            size = self._window(rate)
            if size is None:  # one variable-length window per clip
                for i, wave in zip(members, waves):
                    results[i] = audio_count(self._patches(wave[None], rate), wave.shape[-1], clips[i].duration_s)
                continue
            tokens = [0] * len(members)
            windows = [0] * len(members)
            for batch, owners in batched_windows(waves, size, batch=WINDOWS_PER_BATCH, pad=self.config.pad):
                per_window = self._patches(batch, rate)
                for owner in owners:
                    tokens[owner] += per_window
                    windows[owner] += 1
            for j, i in enumerate(members):
                results[i] = audio_count(tokens[j], windows[j] * size, clips[i].duration_s)
        return results  # type: ignore[return-value]  # every clip is in one rate group

    def model_rate(self, sample_rate: int) -> int:
        return self._rate(sample_rate)

    def coverage(self, frames: int, sample_rate: int) -> tuple[float, int]:
        """The samples some patch's STFT frames read: everything at the defaults; less with pad=none (the last
        partial window and patch dropped), center=false (the tail after the last frame) or patches farther
        apart than they are long."""
        rate = self._rate(sample_rate)
        samples = resampled_frames(frames, sample_rate, rate)
        size = self._window(rate) or samples
        full, rest = divmod(samples, size)
        covered = reach = 0
        if full:
            covered, end = self._window_cover(size, size)
            covered, reach = full * covered, (full - 1) * size + end
        if rest and self.config.pad != "none":  # the last window, padded: only its real samples count
            part, end = self._window_cover(size, rest)
            covered, reach = covered + part, full * size + end if part else reach
        return covered / samples, min(frames, ceil_div(reach * sample_rate, rate))

    def _window_cover(self, size: int, real: int) -> tuple[int, int]:
        """(samples among the first ``real`` of a ``size``-sample window that the kept patches' frames read,
        the end of the last of them)."""
        import numpy as np

        c = self.config
        frames = 1 + size // c.hop if c.center else conv_out(size, c.n_fft, c.hop)
        patches = grid(frames, self.patch[1], self.stride[1], c.pad != "none")
        if patches == 0:
            return 0, 0
        first = np.arange(patches, dtype=np.int64) * self.stride[1]  # each patch's first and last real frame
        last = np.minimum(first + self.patch[1], frames) - 1
        offset = c.n_fft // 2 if c.center else 0  # a centred frame k reads [k hop - n_fft/2, + n_fft)
        start = np.clip(first * c.hop - offset, 0, real)
        end = np.clip(last * c.hop - offset + c.n_fft, 0, real)
        before = np.concatenate([[0], end[:-1]])  # ends never decrease: the union of the intervals, in one pass
        return int(np.maximum(end - np.maximum(start, before), 0).sum()), int(end[-1])

    def count_for_shape(self, frames: int, sample_rate: int, channels: int) -> TokenCount:
        c = self.config
        rate = self._rate(sample_rate)
        samples = resampled_frames(frames, sample_rate, rate)
        size = self._window(rate)
        if size is None:
            windows, size = 1, samples
        else:
            windows = samples // size if c.pad == "none" else ceil_div(samples, size)
        mel_frames = 1 + size // c.hop if c.center else conv_out(size, c.n_fft, c.hop)
        padded = c.pad != "none"
        f_dim = grid(c.n_mels, self.patch[0], self.stride[0], padded)
        tokens = windows * f_dim * grid(mel_frames, self.patch[1], self.stride[1], padded)
        return audio_count(tokens, windows * size, frames / sample_rate)
