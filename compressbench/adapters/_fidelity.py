"""What the model's input keeps of an image: PSNR and SSIM of the round trip, on the device, in the batch.

The covered region of the original is compared with the model's input resized
back to that region (bicubic, antialiased: the adapters' own :func:`resize`),
clamped to the displayable range. Both are RGB; the tensors hold values in
[0, 1], which gives the same PSNR and SSIM as 0-255 with a peak of 255 (the
constants scale with the peak).

- ``input_psnr_db`` = 10 log10(255² / MSE) over every pixel and channel, capped
  at :data:`PSNR_CAP_DB` (an exact round trip has MSE 0).
- ``input_ssim``: the mean structural similarity of Wang et al. (2004): an
  11-tap Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, over the positions where
  the window fits, averaged over the three channels (pytorch-msssim's ``ssim``,
  as scikit-image's ``structural_similarity`` with ``gaussian_weights=True``,
  ``use_sample_covariance=False``). A region narrower than the window has none.

Large images are compared in strips of rows so that what is allocated beyond the
batch and its round trip stays small; the strips overlap by the window, so the
result is the whole image's.

>>> import torch
>>> x = torch.rand(2, 3, 32, 48)
>>> fidelity(x, x)[0]
{'input_psnr_db': 100.0, 'input_ssim': 1.0}
>>> round(fidelity(torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.1))[0]["input_psnr_db"], 6)  # no SSIM: < 11 px
20.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch

PSNR_CAP_DB = 100.0  # what an exact (or float-exact) round trip reports
SSIM_WINDOW = 11  # Wang et al.'s Gaussian window: 11 taps, sigma 1.5
SSIM_SIGMA = 1.5
STRIP_PIXELS = 1 << 21  # pixels of one strip of rows (all images of the batch together): bounds what is allocated

# The coverage of a family whose model input shows the whole image (resized, tiled or padded, never cropped).
WHOLE: dict[str, float] = {"input_coverage": 1.0}

# A video's PSNR and SSIM: the mean over at most this many of its sampled frames, spread evenly (all of them
# when fewer): frames close in time differ little, and on the CPU each frame's round trip costs several times
# its tokenizing.
FIDELITY_FRAMES = 8

# Counts only a decoded sample has (--count-only reports coverage alone).
DECODED_ONLY = ("input_psnr_db", "input_ssim")


def restore(view: "torch.Tensor", height: int, width: int) -> "torch.Tensor":
    """The model's input (B, 3, h, w) in [0, 1] resized back to the covered region's size and clamped to [0, 1]."""
    from compressbench.adapters._image import resize

    return resize(view, height, width).clamp(0.0, 1.0)


def fidelity(original: "torch.Tensor", restored: "torch.Tensor") -> list[dict[str, float]]:
    """``input_psnr_db`` and ``input_ssim`` (when the region fits the window) of each image of the batch.

    Rows are taken in strips (at most STRIP_PIXELS for the batch, plus the window's overlap), so what is
    allocated beyond the two inputs stays small: the squared error of the strip's own rows, and SSIM's
    filtered maps over the strip's positions where the window fits.
    """
    import torch
    from pytorch_msssim import ssim as msssim_ssim

    b, c, h, w = original.shape
    pad = SSIM_WINDOW - 1
    rows = max(1, STRIP_PIXELS // max(1, b * w))
    do_ssim = min(h, w) >= SSIM_WINDOW
    squared, similar = [0.0] * b, [0.0] * b
    for start in range(0, h, rows):
        own = min(rows, h - start)  # rows of this strip, each in one strip only
        diff = original[:, :, start:start + own] - restored[:, :, start:start + own]
        squared = [a + v for a, v in zip(squared, diff.mul_(diff).flatten(1).sum(1, dtype=torch.float64).tolist())]
        positions = min(own, h - pad - start)  # SSIM map rows this strip owns
        if do_ssim and positions > 0:
            reach = slice(start, start + positions + pad)  # the rows the window needs for those map rows
            part = msssim_ssim(original[:, :, reach], restored[:, :, reach], data_range=1.0, size_average=False,
                               win_size=SSIM_WINDOW, win_sigma=SSIM_SIGMA)
            similar = [a + v * positions for a, v in zip(similar, part.double().tolist())]
    mse = [total / (c * h * w) for total in squared]
    psnr = [PSNR_CAP_DB if m <= 0 else min(PSNR_CAP_DB, -10.0 * math.log10(m)) for m in mse]
    if not do_ssim:
        return [{"input_psnr_db": p} for p in psnr]
    return [{"input_psnr_db": p, "input_ssim": s / (h - pad)} for p, s in zip(psnr, similar)]


def round_trip(original: "torch.Tensor", view: "torch.Tensor") -> list[dict[str, float]]:
    """:func:`fidelity` of the covered region ``original`` against the model's input ``view`` resized back to it."""
    return fidelity(original, restore(view, *original.shape[-2:]))


def frames_measured(sampled: int, cap: int = FIDELITY_FRAMES) -> frozenset[int]:
    """Positions, among ``sampled`` frames, whose PSNR and SSIM a video reports the mean of: ``cap`` of them
    spread evenly, first and last included (numpy's linspace, truncated), or all.

    >>> sorted(frames_measured(5)), sorted(frames_measured(100, cap=4))
    ([0, 1, 2, 3, 4], [0, 33, 66, 99])
    """
    import numpy as np

    return frozenset(np.linspace(0, sampled - 1, min(cap, sampled), dtype=int).tolist())


def measured_in_chunk(measured: frozenset[int], done: int, size: int) -> list[int]:
    """Indices within a chunk of ``size`` frames starting at position ``done`` that are ``measured``.

    >>> measured_in_chunk(frozenset({0, 33, 66, 99}), 32, 32)
    [1]
    """
    return [k for k in range(size) if done + k in measured]


class MeasuresFidelity:
    """What image and video adapters share: ``measure_fidelity`` (on by default; ``--no-fidelity`` turns it off,
    leaving coverage alone) and the round trip of a batch against the model's input."""

    measure_fidelity = True

    def round_trip(self, original: "torch.Tensor", view: "torch.Tensor") -> list[dict[str, float]]:
        """:func:`round_trip` of each image of ``original`` against the model's input ``view``; empty dicts
        when ``measure_fidelity`` is off."""
        if not self.measure_fidelity:
            return [{} for _ in range(original.shape[0])]
        return round_trip(original, view)


class FrameMeans:
    """Running per-frame means of PSNR and SSIM over a video's sampled frames (what a video reports).

    >>> import torch
    >>> means = FrameMeans()
    >>> means.add(round_trip(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 2, 2)))
    >>> means.counts()
    {'input_psnr_db': 100.0}
    """

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.frames: dict[str, int] = {}

    def add(self, per_frame: Sequence[dict[str, float]]) -> None:
        for values in per_frame:
            for key, value in values.items():
                self.sums[key] = self.sums.get(key, 0.0) + value
                self.frames[key] = self.frames.get(key, 0) + 1

    def counts(self) -> dict[str, float]:
        return {k: self.sums[k] / self.frames[k] for k in self.sums}


def with_counts(result: TokenCount, counts: dict[str, float]) -> TokenCount:
    """The count with ``counts`` added to its per-sample counts."""
    return TokenCount(result.tokens, result.input_bytes, {**result.counts, **counts})


def shape_only(result: TokenCount) -> TokenCount:
    """The count without what only a decoded sample has: what --count-only reports for the same sample.

    >>> shape_only(TokenCount(4, 12, {"input_coverage": 1.0, "input_psnr_db": 31.5}))
    TokenCount(tokens=4, input_bytes=12, counts={'input_coverage': 1.0})
    """
    return TokenCount(result.tokens, result.input_bytes,
                      {k: v for k, v in result.counts.items() if k not in DECODED_ONLY})
