"""What every audio adapter shares: the payload check, frame arithmetic, waveforms on the device.

The arithmetic helpers are exact integer formulas (no floating-point rounding),
so that counts from a header's duration alone (``count_for_shape``) equal the
counts measured on the decoded tensors.

>>> resampled_frames(44100, 44100, 16000)
16000
>>> conv_out(3000, kernel=3, stride=2, padding=1)
1500
>>> grid(1024, patch=16, stride=10), grid(20, patch=16, stride=10, pad=True), grid(15, patch=16, stride=10)
(101, 2, 0)
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from compressbench.adapters._audio_fidelity import EnergyMeter, MeteredFile, finish_meter
from compressbench.adapters.base import BatchedTokenizer
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.sample import TokenCount
from compressbench.data.audio import PCM_BYTES, Audio
from compressbench.data.audiofile import AudioFile

if TYPE_CHECKING:
    import torch

PAD_POLICIES = ("none", "zero", "repeat")


def ceil_div(a: int, b: int) -> int:
    """ceil(a / b) for integers, exactly."""
    return -(-a // b)


def frames_of(duration_s: float, sample_rate: int) -> int:
    """Frames in ``duration_s`` seconds at ``sample_rate`` (a header's duration back to its frame count)."""
    return round(duration_s * sample_rate)


def resampled_frames(frames: int, orig_rate: int, new_rate: int) -> int:
    """Length after resampling, as torchaudio.functional.resample gives it: ceil(frames x new / orig)."""
    return frames if orig_rate == new_rate else ceil_div(frames * new_rate, orig_rate)


def conv_out(length: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length of a convolution (PyTorch's formula, dilation 1); 0 when the input is too short."""
    return max(0, (length + 2 * padding - kernel) // stride + 1)


def grid(length: int, patch: int, stride: int, pad: bool = False) -> int:
    """Patches along one axis: whole patches only, or (``pad``) the last partial one padded to full size."""
    if not pad:
        return conv_out(length, patch, stride)
    return ceil_div(max(length - patch, 0), stride) + 1 if length > 0 else 0


def check_pad(family: str, pad: str) -> None:
    if pad not in PAD_POLICIES:
        raise ConfigError(f"{family}: option pad must be one of {', '.join(PAD_POLICIES)}, got {pad!r}")


STREAM_CHUNK_S = 60  # seconds of a long file's audio (AudioFile) held at once by the default count_file


def require_audio(payload: object) -> Audio | AudioFile:
    """The payload as :class:`Audio` (or a long file's :class:`AudioFile`) with at least one frame, or a
    sample error naming what came instead."""
    if not isinstance(payload, (Audio, AudioFile)):
        raise SampleError(f"audio tokenizer got a {type(payload).__name__} payload, expected decoded audio")
    if payload.frames == 0 or payload.channels == 0:
        raise SampleError("the audio has no frames (nothing to tokenize)")
    return payload


def mono_waveform(audio: Audio, sample_rate: int | None, device: str, limit: int | None = None) -> "torch.Tensor":
    """The audio on ``device`` mixed down to mono (channel mean) and resampled to ``sample_rate`` (None: native).

    ``limit`` (samples at ``sample_rate``) skips resampling audio the tokenizer would cut off anyway.
    """
    import torch
    import torchaudio.functional as AF

    samples = audio.samples
    if limit is not None:
        samples = samples[:, : ceil_div(limit * audio.sample_rate, sample_rate or audio.sample_rate) + 1]
    wave = torch.from_numpy(samples).to(device).mean(dim=0)
    if sample_rate is not None and sample_rate != audio.sample_rate:
        wave = AF.resample(wave, audio.sample_rate, sample_rate)
    return wave


def batched_windows(waves: Sequence["torch.Tensor"], size: int, *, batch: int, pad: str = "zero",
                    ) -> Iterator[tuple["torch.Tensor", list[int]]]:
    """Cut each wave into consecutive windows of ``size`` samples and yield them in batches.

    Yields (windows: batch x size, owners: the index of the wave each row came
    from). The last partial window of a wave is zero-padded (``zero``),
    padded with its last sample (``repeat``) or dropped (``none``).
    """
    import torch
    import torch.nn.functional as F

    rows: list[torch.Tensor] = []
    owners: list[int] = []
    for i, wave in enumerate(waves):
        count = wave.shape[-1] // size if pad == "none" else ceil_div(wave.shape[-1], size)
        missing = count * size - wave.shape[-1]
        if missing > 0:
            mode = "replicate" if pad == "repeat" else "constant"
            wave = F.pad(wave[None, None], (0, missing), mode=mode)[0, 0]
        for w in range(count):
            rows.append(wave[w * size:(w + 1) * size])
            owners.append(i)
            if len(rows) == batch:
                yield torch.stack(rows), owners
                rows, owners = [], []
    if rows:
        yield torch.stack(rows), owners


def ones_kernel(shape: tuple[int, ...], device: str) -> "torch.Tensor":
    """A fixed convolution kernel: counting needs the layer's output shape, not learned weights."""
    import torch

    return torch.ones(shape, device=device)


class AudioTokenizer(BatchedTokenizer):
    """Base of audio adapters: payload checks and batching around :meth:`count_decoded`.

    Subclasses implement :meth:`count_decoded` (tensor work for several clips at
    once) and :meth:`count_for_shape`, its arithmetic twin from the clip's shape
    alone, which gives ``--count-only`` runs (:meth:`count_from_meta`) and
    :meth:`tokens_for_duration` exactly what the tensors give.
    """

    modality = "audio"
    requires: tuple[str, ...] = ("torch", "torchaudio", "av")  # av decodes the files (compressbench.data.audio)
    install_hint = "pip install torch torchaudio av"
    uses_torch = True
    mixes_to_mono: bool = True  # the model hears the channels' mean (input_energy_share is taken on it)

    @abstractmethod
    def count_decoded(self, clips: list[Audio]) -> list[TokenCount]:
        """Token counts of valid clips, in order."""

    @abstractmethod
    def count_for_shape(self, frames: int, sample_rate: int, channels: int) -> TokenCount:
        """The TokenCount of a clip of ``frames`` frames at ``sample_rate`` Hz, without its samples."""

    def count_file(self, audio: AudioFile) -> TokenCount:
        """A long file's TokenCount, read window by window: N from :meth:`count_for_shape` (equal to the
        tensors' N, as the tests check), the tensor work run on consecutive chunks of ``STREAM_CHUNK_S``
        seconds so that the time is real. Adapters whose N needs the samples override it."""
        if self.uses_torch:
            for chunk in audio.windows(STREAM_CHUNK_S * audio.sample_rate):
                self.count_decoded([chunk])
        return self.count_for_shape(audio.frames, audio.sample_rate, audio.channels)

    def tokens_for_duration(self, duration_s: float, sample_rate: int, channels: int) -> int:
        """N from a clip's header alone (duration, native rate and channels), equal to the measured N."""
        return self.count_for_shape(frames_of(duration_s, sample_rate), sample_rate, channels).tokens

    def count_from_meta(self, meta: dict[str, Any]) -> TokenCount:
        """--count-only: the whole TokenCount from a probed header (duration_s, sample_rate, channels)."""
        try:
            rate, channels = int(meta["sample_rate"]), int(meta["channels"])
            frames = frames_of(float(meta["duration_s"]), rate)
        except (KeyError, TypeError, ValueError):
            raise SampleError(f"{self.name}: the header gives no duration_s, sample_rate and channels") from None
        if frames <= 0 or rate <= 0:
            raise SampleError("the audio has no frames (nothing to tokenize)")
        return with_input(self.count_for_shape(frames, rate, channels), self.coverage(frames, rate)[0])

    def coverage(self, frames: int, sample_rate: int) -> tuple[float, int]:
        """(input_coverage, span) of a clip of ``frames`` frames at ``sample_rate`` Hz: the share of its time
        inside the windows the model sees, and the native frames from its start that those windows reach.
        By default the windows cover the whole clip (padding the last one)."""
        return 1.0, frames

    def model_rate(self, sample_rate: int) -> int:
        """The rate (Hz) the model resamples a clip of ``sample_rate`` Hz to: it keeps what lies below half of it."""
        return sample_rate

    def energy_meter(self, audio: Audio | AudioFile) -> EnergyMeter | None:
        """A meter of the energy share below the model's Nyquist over the covered span, or None when the model
        keeps the source's whole band (its rate is not below the source's)."""
        model_rate = self.model_rate(audio.sample_rate)
        if model_rate >= audio.sample_rate:
            return None
        return EnergyMeter(audio.sample_rate, model_rate, self.device, mix=self.mixes_to_mono,
                           limit=self.coverage(audio.frames, audio.sample_rate)[1])

    def _with_input(self, result: TokenCount, audio: Audio | AudioFile, meter: EnergyMeter | None) -> TokenCount:
        """The result with input_coverage and input_energy_share (1 when the model keeps the whole band)."""
        share = 1.0 if meter is None else meter.share()
        return with_input(result, self.coverage(audio.frames, audio.sample_rate)[0], share)

    def _count_file_kept(self, audio: AudioFile) -> TokenCount:
        """:meth:`count_file`, its windows also feeding the energy meter (one decoding pass where it reads the span)."""
        meter = self.energy_meter(audio)
        if meter is None:
            return self._with_input(self.count_file(audio), audio, None)
        result = self.count_file(MeteredFile(audio.path, audio.sample_rate, audio.channels, audio.frames,
                                             scan_seconds=audio.scan_seconds, meter=meter))
        finish_meter(meter, audio, STREAM_CHUNK_S * audio.sample_rate)
        return self._with_input(result, audio, meter)

    def count_batch(self, payloads: Sequence[Any]) -> list[TokenCount | SampleError]:
        """Count the valid payloads together (one batch of tensor work); each invalid one gets its error."""
        out: list[TokenCount | SampleError | None] = [None] * len(payloads)
        valid: list[tuple[int, Audio]] = []
        files: list[tuple[int, AudioFile]] = []
        for i, payload in enumerate(payloads):
            try:
                clip = require_audio(payload)
            except SampleError as exc:
                out[i] = exc
                continue
            (files if isinstance(clip, AudioFile) else valid).append((i, clip))  # type: ignore[arg-type]
        with _inference_mode() if self.uses_torch else contextlib.nullcontext():
            if valid:
                counted = self.count_decoded([clip for _, clip in valid])
                for (i, clip), result in zip(valid, counted):
                    meter = self.energy_meter(clip)
                    if meter is not None:
                        meter.offer(clip.samples, 0)
                    out[i] = self._with_input(result, clip, meter)
            for i, audio in files:
                try:
                    out[i] = self._count_file_kept(audio)
                except SampleError as exc:
                    out[i] = exc
        return out  # type: ignore[return-value]  # every slot is filled


def _inference_mode() -> Any:
    import torch

    return torch.inference_mode()


def with_input(result: TokenCount, coverage: float, energy_share: float | None = None) -> TokenCount:
    """``result`` with what the model's input keeps: input_coverage, and input_energy_share when measured."""
    kept = {"input_coverage": coverage}
    if energy_share is not None:
        kept["input_energy_share"] = energy_share
    return replace(result, counts={**result.counts, **kept})


def audio_count(tokens: int, consumed_frames: int, duration_s: float, channels: int = 1, **extra: float) -> TokenCount:
    """A TokenCount whose input_bytes is the canonical size of the consumed tensor, with the clip's duration."""
    counts = {"duration_s": duration_s, **extra}
    return TokenCount(tokens=tokens, input_bytes=consumed_frames * channels * PCM_BYTES, counts=counts)


__all__ = ["AudioTokenizer", "PCM_BYTES", "audio_count", "batched_windows", "ceil_div", "check_pad", "check_positive",
           "conv_out", "frames_of", "grid", "mono_waveform", "ones_kernel", "require_audio", "resampled_frames", "with_input"]
