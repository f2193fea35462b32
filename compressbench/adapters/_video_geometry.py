"""Pure-Python frame sampling of the video tokenizers: which frames, from the frame count and rate alone.

The adapters pick the frames they upload with these functions, and count-only
mode uses them to get N from a header, so both always agree. Frames are chosen
by index on the stream's average rate (as qwen-vl-utils does), not by each
frame's timestamp: for a variable-frame-rate stream the times are approximate.

>>> sample_indices(120, 30.0, fps=1.0)  # 4 s at 30 fps, one frame a second
[0, 30, 60, 90]
>>> qwen2vl_nframes(120, 30.0)  # qwen-vl-utils' default: 2 fps
8
"""

from __future__ import annotations

import math

from compressbench.core.errors import SampleError

FRAME_FACTOR = 2  # qwen-vl-utils: the frame count is always a multiple of the temporal patch (2)


def sample_indices(total: int, native_fps: float, *, fps: float | None = None, stride: int | None = None) -> list[int]:
    """Indices of the frames kept: every ``stride``-th frame, or the frame nearest each tick of ``fps``.

    With neither, every frame; an ``fps`` at or above the native rate keeps every frame (no duplication).
    """
    if total <= 0:
        raise SampleError(f"a video of {total} frames has nothing to sample")
    if stride is not None:
        return list(range(0, total, stride))
    if fps is None or fps >= native_fps:
        return list(range(total))
    step = native_fps / fps  # native frames between two sampled ones
    count = math.ceil(total / step - 1e-9)  # ticks at 0, 1/fps, ... that fall within the clip
    return [min(total - 1, math.floor(k * step + 0.5)) for k in range(count)]


def uniform_indices(total: int, count: int) -> list[int]:
    """``count`` frames spread evenly over the video, first and last included: LLaVA-Video's
    ``np.linspace(0, total - 1, count, dtype=int)`` (truncation, as numpy casts), at most every frame.

    >>> uniform_indices(120, 4)
    [0, 39, 79, 119]
    """
    import numpy as np

    return np.linspace(0, total - 1, min(count, total), dtype=int).tolist()


def qwen2vl_nframes(total: int, native_fps: float, *, fps: float = 2.0, nframes: int | None = None,
                    min_frames: int = 4, max_frames: int = 768) -> int:
    """Frames Qwen2-VL samples: qwen-vl-utils' ``smart_nframes`` (round to 2, clamp to [min, max] and the total).

    A video too short for two frames is refused, as qwen-vl-utils refuses it.
    """
    if nframes is not None:
        n = round(nframes / FRAME_FACTOR) * FRAME_FACTOR
    else:
        lo = math.ceil(min_frames / FRAME_FACTOR) * FRAME_FACTOR
        hi = math.floor(min(max_frames, total) / FRAME_FACTOR) * FRAME_FACTOR
        n = min(min(max(total / native_fps * fps, lo), hi), total)
        n = math.floor(n / FRAME_FACTOR) * FRAME_FACTOR
    if not FRAME_FACTOR <= n <= total:
        raise SampleError(f"Qwen2-VL samples {n} frames of this {total}-frame video; it needs between "
                          f"{FRAME_FACTOR} and the video's {total} (qwen-vl-utils refuses shorter videos)")
    return int(n)


def qwen2vl_frame_indices(total: int, nframes: int) -> list[int]:
    """qwen-vl-utils' ``torch.linspace(0, total - 1, nframes).round().long()``, in torch's float32.

    torch computes the linspace in float32 and rounds half to even; the indices come from torch itself
    so that no re-derivation can drift from it.
    """
    import torch

    return torch.linspace(0, total - 1, nframes).round().long().tolist()


def qwen2vl_max_pixels(nframes: int, *, min_pixels: int, max_pixels: int, total_pixels: int) -> float:
    """A frame's pixel budget in ``fetch_video``: the per-frame cap, lowered so all frames fit total_pixels."""
    return max(min(max_pixels, total_pixels / nframes * FRAME_FACTOR), int(min_pixels * 1.05))
