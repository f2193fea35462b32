"""What an audio model's input keeps of a clip: the energy that lies below the model's Nyquist frequency.

A model that resamples a clip from its native rate r to a lower rate r_m keeps
nothing above r_m / 2 (the Nyquist-Shannon sampling theorem: a signal sampled
at r_m holds frequencies below r_m / 2 only; the resampler's low-pass filter
removes the rest). ``input_energy_share`` is the share of the covered signal's
energy below that frequency:

    E(f < r_m / 2) / E,  E(f < r_m / 2) from the one-sided power spectrum |X_k|^2 of the bins below the
    cutoff (DC and Nyquist bins once, the others twice), E = n sum x^2 (Parseval: the same sum over all bins)

taken on consecutive blocks of one second of the source (``BLOCK_S``; the last
one shorter) and summed over the blocks. Blocks keep memory bounded by a block
for any length, and a long file read window by window gives the same blocks
(and value) as the whole decode. The signal is the channel mix the model sees:
the mean of the channels for models that mix to mono, else every channel, their
energies summed. At r_m >= r the share is 1 (nothing is above the source's own
Nyquist), without computing. Digital silence has no energy: no share.

White noise has a flat spectrum, so 44.1 kHz noise resampled to 16 kHz keeps 8 / 22.05 of its energy:

>>> import numpy as np
>>> noise = np.random.default_rng(0).standard_normal((1, 2 * 44100)).astype(np.float32)
>>> meter = EnergyMeter(44100, 16000, "cpu"); meter.offer(noise, 0)
>>> round(meter.share(), 3), round(8 / 22.05, 3)
(0.363, 0.363)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from compressbench.data.audiofile import AudioFile

BLOCK_S = 1  # seconds of source audio a spectrum is taken over
BLOCKS_PER_FFT = 64  # blocks transformed at once: memory bounded by 64 s of audio, not the clip


def bins_below(block: int, rate: int, model_rate: int) -> int:
    """How many rfft bins of a ``block``-sample block at ``rate`` Hz lie strictly below ``model_rate`` / 2.

    Bin k is at k x rate / block Hz; k < model_rate x block / (2 rate), exactly in integers.

    >>> bins_below(44100, 44100, 16000), bins_below(16000, 16000, 16000)
    (8000, 8000)
    """
    return min(block // 2 + 1, -(-model_rate * block // (2 * rate)))


class EnergyMeter:
    """The energy share below ``model_rate`` / 2 of a clip at ``rate`` Hz, fed in consecutive pieces.

    ``limit`` (frames) stops it at the end of the span the model's windows reach. Pieces are offered
    with their first frame's position in the clip; the part before what is already counted (a second
    pass over the same file) and after ``limit`` is ignored, so it counts each frame once, in order.
    """

    def __init__(self, rate: int, model_rate: int, device: str, *, mix: bool = True, limit: int | None = None):
        self.rate, self.model_rate, self.device, self.mix = rate, model_rate, device, mix
        self.block = BLOCK_S * rate
        self.limit = limit
        self.fed = 0  # frames counted (or held in the carry) so far
        self._carry: np.ndarray | None = None  # the frames of an unfinished block
        self._below: Any = 0.0
        self._total: Any = 0.0

    @property
    def done(self) -> bool:
        return self.limit is not None and self.fed >= self.limit

    def offer(self, samples: np.ndarray, start: int) -> None:
        """Count the frames of ``samples`` (channels x frames, the clip's frames from ``start`` on) not yet counted."""
        end = start + samples.shape[1]
        if self.limit is not None:
            end = min(end, self.limit)
        if start > self.fed or end <= self.fed:
            return  # a piece further on than what is counted cannot be placed; one already counted adds nothing
        piece = samples[:, self.fed - start:end - start]
        self.fed = end
        if self._carry is not None:
            piece = np.concatenate([self._carry, piece], axis=1)
        whole = piece.shape[1] - piece.shape[1] % self.block
        self._carry = piece[:, whole:] if whole < piece.shape[1] else None
        for first in range(0, whole, BLOCKS_PER_FFT * self.block):
            self._add(piece[:, first:min(whole, first + BLOCKS_PER_FFT * self.block)], self.block)

    def share(self) -> float | None:
        """E(f < model_rate / 2) / E: the last partial block counted, None for a signal with no energy."""
        if self._carry is not None:
            self._add(self._carry, self._carry.shape[1])
            self._carry = None
        total = float(self._total)
        return min(1.0, float(self._below) / total) if total > 0 else None  # float32 FFT rounding aside

    def _add(self, samples: np.ndarray, block: int) -> None:
        """Add the band energies of ``samples``, a whole number of ``block``-frame blocks."""
        import torch

        if self.mix and samples.shape[0] > 1:
            samples = samples.mean(axis=0, keepdims=True, dtype=np.float32)  # on the host: half the upload for stereo
        x = torch.from_numpy(np.ascontiguousarray(samples)).to(self.device)
        kept = bins_below(block, self.rate, self.model_rate)
        spectrum = torch.fft.rfft(x.reshape(x.shape[0], -1, block), dim=-1)[..., :kept]
        per_bin = torch.view_as_real(spectrum).square().sum(dim=(0, 1, 3)).double()  # |X_k|^2, blocks summed
        per_bin[1:(block + 1) // 2] *= 2  # bins mirrored at negative frequencies (not DC, not an even block's Nyquist)
        self._below = self._below + per_bin.sum()
        self._total = self._total + block * x.double().square().sum()  # Parseval: sum |X_k|^2 = n sum x^2


@dataclass(frozen=True)
class MeteredFile(AudioFile):
    """A long file whose windows, as an adapter reads them, also feed ``meter``: the energy is measured in
    the same decoding pass as the tokens, not in a second one."""

    meter: EnergyMeter | None = None

    def windows(self, frames: int) -> Iterator[Any]:
        start = 0
        for window in super().windows(frames):
            if self.meter is not None:
                self.meter.offer(window.samples, start)
            start += window.frames
            yield window


def finish_meter(meter: EnergyMeter, audio: AudioFile, window: int) -> float | None:
    """The share, after reading the rest of the span from the file if the adapter stopped short of it."""
    if not meter.done:
        start = 0
        for chunk in AudioFile.windows(audio, window):
            meter.offer(chunk.samples, start)
            start += chunk.frames
            if meter.done:
                break
    return meter.share()
