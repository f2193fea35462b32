"""What the video adapters share: payload checks, count-only from a header, frames on the device in chunks.

The payload is the decoder's :class:`compressbench.data.video.Video` (all frames,
uint8, (F, H, W, 3)). An adapter picks frames by index (see
:mod:`compressbench.adapters._video_geometry`), uploads them to the device in
chunks that bound device memory, and counts tokens from the shapes its tensor
work produces. :meth:`VideoTokenizer.count_for_shape` gives the same count from
(frames, fps, height, width) alone, for --count-only. torch is imported only
when a video is counted.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from compressbench.adapters._image import BATCH_PIXELS
from compressbench.adapters._video_coverage import frame_coverage
from compressbench.adapters.base import Tokenizer
from compressbench.core.errors import SampleError
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch

    from compressbench.data.video import Video


def require_video(payload: Any) -> "Video":
    """The payload as a decoded Video, or a SampleError saying what it is instead."""
    import numpy as np

    from compressbench.data.video import Video

    if not isinstance(payload, Video):
        raise SampleError(f"video tokenizers take a decoded video (compressbench.data.video.Video), "
                          f"got {type(payload).__name__}")
    frames = payload.frames
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise SampleError(f"expected uint8 RGB frames of shape (F, H, W, 3), got {frames.dtype} {frames.shape}")
    if 0 in frames.shape[:3]:
        raise SampleError(f"video of {frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]} pixels is empty")
    if not payload.fps > 0:
        raise SampleError(f"video frame rate must be positive, got {payload.fps}")
    return payload


def with_duration(result: TokenCount, duration_s: float) -> TokenCount:
    """The count with the video's duration among its additive counts: summed, it turns hours of video into
    raw bytes and tokens in data plans (as audio's does)."""
    return TokenCount(result.tokens, result.input_bytes, {**result.counts, "duration_s": duration_s})


class VideoTokenizer(Tokenizer):
    """Base of the video adapters: subclasses count one video on the device and give N from a shape."""

    modality = "video"
    uses_torch = True
    requires: tuple[str, ...] = ("torch", "numpy", "av")
    install_hint = "pip install torch av numpy"

    @abstractmethod
    def count_decoded(self, video: "Video") -> TokenCount:
        """Count one checked video with tensor work on ``self.device`` (inside inference mode)."""

    @abstractmethod
    def count_for_shape(self, frames: int, fps: float, height: int, width: int) -> TokenCount:
        """What :meth:`count` reports for a video of this shape, from the shape alone (its duration aside);
        SampleError if refused."""

    def source_frames(self, frames: int, fps: float) -> list[int] | None:
        """Indices of the clip's frames the model takes (padding repeats included), from its frame count and
        rate alone; None where the adapter does not say (no input_coverage then)."""
        return None

    def with_coverage(self, result: TokenCount, frames: int, fps: float) -> TokenCount:
        """The result with input_coverage and input_frame_share (:mod:`compressbench.adapters._video_coverage`)."""
        indices = self.source_frames(frames, fps)
        if indices is None:
            return result
        return TokenCount(result.tokens, result.input_bytes, {**result.counts, **frame_coverage(indices, frames)})

    def count(self, payload: Any) -> TokenCount:
        import torch

        video = require_video(payload)
        with torch.inference_mode():
            result = with_duration(self.count_decoded(video), video.duration_s)
        return self.with_coverage(result, video.num_frames, video.fps)

    def count_from_meta(self, meta: dict[str, Any]) -> TokenCount:
        """--count-only: the count from a probed header's ``frames``, ``fps``, ``height`` and ``width``."""
        try:
            frames, fps = int(meta["frames"]), float(meta["fps"])
            height, width = int(meta["height"]), int(meta["width"])
        except (KeyError, TypeError, ValueError):
            raise SampleError(f"{self.name}: the sample's metadata lacks frames, fps, height or width") from None
        if frames <= 0 or height <= 0 or width <= 0 or not fps > 0:
            raise SampleError(f"{self.name}: a video of {frames} frames of {width}x{height} at {fps} fps is empty")
        duration = float(meta.get("duration_s") or frames / fps)
        return self.with_coverage(with_duration(self.count_for_shape(frames, fps, height, width), duration), frames, fps)

    def frame_chunks(self, video: "Video", indices: Sequence[int], *, multiple: int = 1,
                     budget: int = BATCH_PIXELS) -> Iterator["torch.Tensor"]:
        """The chosen frames as (B, 3, H, W) float32 batches in [0, 1] on the device, in order.

        Each batch holds at most ``budget`` source pixels (at least ``multiple`` frames), and a whole
        number of ``multiple`` frames except the last, so groups (clips, temporal patches) never straddle two.
        """
        import numpy as np
        import torch

        per_batch = max(1, budget // (video.height * video.width) // multiple) * multiple
        for start in range(0, len(indices), per_batch):
            picked = np.ascontiguousarray(video.frames[list(indices[start:start + per_batch])])
            x = torch.from_numpy(picked).to(self.device, non_blocking=True)
            yield x.permute(0, 3, 1, 2).float().div_(255.0)
