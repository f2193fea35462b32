"""``whisper``: the audio tokens of OpenAI Whisper's encoder (50 per second, 1500 per 30 s window).

As openai/whisper prepares audio: resampled to 16 kHz mono, cut into 30 s
windows (the last one zero-padded, so a clip up to 30 s is one window and a
longer one ceil(duration / 30 s) windows), log-mel spectrogram (n_fft 400,
hop 160, 80 bins or 128 for large-v3; the STFT's last frame dropped: 3000
frames a window), then the encoder's two convolutions (k3 pad 1 stride 1, k3
pad 1 stride 2): 1500 tokens a window. N is read off the convolution's output.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("whisper", device="cpu").tokens_for_duration(44.1, 44100, 2)
3000
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compressbench.adapters._audio import (AudioTokenizer, audio_count, batched_windows, ceil_div, conv_out,
                                           mono_waveform, ones_kernel, resampled_frames)
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount
from compressbench.data.audio import Audio
from compressbench.data.audiofile import AudioFile

# openai/whisper's audio.py constants
SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_LENGTH_S = 30
N_SAMPLES = CHUNK_LENGTH_S * SAMPLE_RATE  # 480000 samples a window
# the encoder's conv1 and conv2: (kernel, stride, padding)
CONV1 = (3, 1, 1)
CONV2 = (3, 2, 1)
N_MELS_VALID = (80, 128)
WINDOWS_PER_BATCH = 32  # 32 windows of 30 s: about 60 MB of waveform, 0.5 GB of STFT
STREAM_WINDOWS = 2  # windows of a long file decoded at once: 1 min, 23 MB of float32 at 48 kHz stereo


@dataclass(frozen=True)
class WhisperConfig:
    # Whisper's windowing, hop and convolutions are fixed by the model; only the mel bins vary by version.
    n_mels: int = field(default=80, metadata={"help": "log-mel bins: 80 (tiny ... large-v2) or 128 (large-v3)"})


@register_tokenizer
class WhisperTokenizer(AudioTokenizer):
    family = "whisper"
    description = "OpenAI Whisper encoder: 16 kHz mono, 30 s windows of 3000 log-mel frames, stride-2 conv -> 1500 tokens"
    Config = WhisperConfig

    def __init__(self, config: WhisperConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        if config.n_mels not in N_MELS_VALID:
            raise ConfigError(f"whisper: n_mels must be 80 or 128 (large-v3), got {config.n_mels}")
        import torchaudio

        # librosa's Slaney mel filters, as whisper's mel_filters.npz holds them; built here, outside any timing
        self._mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=config.n_mels,
            power=2.0, center=True, pad_mode="reflect", norm="slaney", mel_scale="slaney",
        ).to(self.device)

    def _log_mel(self, windows: Any) -> Any:
        """Whisper's log_mel_spectrogram on a batch of 30 s windows: (b, n_mels, 3000)."""
        import torch

        mel = self._mel(windows)[..., :-1]  # whisper drops the STFT's last frame
        log_spec = torch.clamp(mel, min=1e-10).log10()
        log_spec = torch.maximum(log_spec, log_spec.amax(dim=(-2, -1), keepdim=True) - 8.0)
        return (log_spec + 4.0) / 4.0

    def _windows(self, waves: list[Any]) -> list[tuple[int, int]]:
        """(tokens, windows) of each 16 kHz mono wave, read off the convolutions' output."""
        import torch.nn.functional as F

        w1 = ones_kernel((1, self.config.n_mels, CONV1[0]), self.device)
        w2 = ones_kernel((1, 1, CONV2[0]), self.device)
        tokens = [0] * len(waves)
        windows = [0] * len(waves)
        for batch, owners in batched_windows(waves, N_SAMPLES, batch=WINDOWS_PER_BATCH, pad="zero"):
            x = F.conv1d(self._log_mel(batch), w1, stride=CONV1[1], padding=CONV1[2])
            x = F.conv1d(x, w2, stride=CONV2[1], padding=CONV2[2])  # (b, 1, 1500)
            for owner in owners:
                tokens[owner] += x.shape[-1]
                windows[owner] += 1
        return list(zip(tokens, windows))

    def count_decoded(self, clips: list[Audio]) -> list[TokenCount]:
        waves = [mono_waveform(clip, SAMPLE_RATE, self.device) for clip in clips]
        return [audio_count(n, w * N_SAMPLES, clip.duration_s) for (n, w), clip in zip(self._windows(waves), clips)]

    def count_file(self, audio: AudioFile) -> TokenCount:
        """A long file, decoded ``STREAM_WINDOWS`` 30 s windows at a time: each chunk of 30 x rate x k native
        frames resamples to exactly k windows, so the windows (and N) are the whole decode's."""
        tokens = windows = 0
        for chunk in audio.windows(STREAM_WINDOWS * CHUNK_LENGTH_S * audio.sample_rate):
            [(n, w)] = self._windows([mono_waveform(chunk, SAMPLE_RATE, self.device)])
            tokens, windows = tokens + n, windows + w
        return audio_count(tokens, windows * N_SAMPLES, audio.duration_s)

    def model_rate(self, sample_rate: int) -> int:
        return SAMPLE_RATE

    def count_for_shape(self, frames: int, sample_rate: int, channels: int) -> TokenCount:
        windows = ceil_div(resampled_frames(frames, sample_rate, SAMPLE_RATE), N_SAMPLES)
        mel_frames = N_SAMPLES // HOP_LENGTH  # center=True gives one more frame; whisper drops it
        per_window = conv_out(conv_out(mel_frames, *CONV1), *CONV2)
        return audio_count(windows * per_window, windows * N_SAMPLES, frames / sample_rate)
