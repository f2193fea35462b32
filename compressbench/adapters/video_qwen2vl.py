"""``qwen2vl-video``: Qwen2-VL video, as qwen-vl-utils' ``fetch_video`` and Qwen2VLImageProcessor prepare it.

Frames are sampled at ``fps`` (2 by default) with qwen-vl-utils' ``smart_nframes``
(a multiple of 2, at least ``min_frames``, at most ``max_frames`` and the video's
frame count) at the indices ``torch.linspace(0, total - 1, nframes).round()``.
Each frame is resized (bicubic, antialiased, on the device) by ``smart_resize``
to multiples of 28 within [min_pixels, max(min(max_pixels, total_pixels / nframes
x 2), 1.05 min_pixels)], then cut into patches of 2 frames x 14 x 14 pixels,
merged 2 x 2: (nframes / 2) x (h' / 28) x (w' / 28) tokens. The defaults are
qwen-vl-utils 0.0.8's (VIDEO_MIN_PIXELS = 128 x 28 x 28, VIDEO_MAX_PIXELS =
768 x 28 x 28, VIDEO_TOTAL_PIXELS = 24576 x 28 x 28, FPS_MAX_FRAMES = 768).
A video of a single frame is refused, as qwen-vl-utils refuses it. input_bytes
is nframes x h' x w' x 3.

The resize uses transformers' Qwen2VLImageProcessor's ``smart_resize`` (shared
with ``qwen2vl``); qwen-vl-utils' own copy differs only for aspect ratios over
about 130:1, where it may round a side down to 0 and transformers keeps 28.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("qwen2vl-video", device="cpu").count_for_shape(120, 30.0, 270, 480).tokens  # 8 frames of 280 x 476
680
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._image import resize
from compressbench.adapters._image_geometry import qwen2vl_smart_resize
from compressbench.adapters._video import VideoTokenizer
from compressbench.adapters._video_geometry import qwen2vl_frame_indices, qwen2vl_max_pixels, qwen2vl_nframes
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch

    from compressbench.data.video import Video


@dataclass(frozen=True)
class Qwen2VLVideoConfig:
    # qwen-vl-utils 0.0.8 (vision_process.py) and Qwen2-VL's preprocessor_config.json.
    fps: float = field(default=2.0, metadata={"help": "frames sampled a second (FPS)"})
    nframes: int | None = field(default=None, metadata={"help": "sample this many frames instead of using fps"})
    min_frames: int = field(default=4, metadata={"help": "fewest frames sampled (FPS_MIN_FRAMES)"})
    max_frames: int = field(default=768, metadata={"help": "most frames sampled (FPS_MAX_FRAMES)"})
    min_pixels: int = field(default=128 * 28 * 28, metadata={"help": "smallest frame area (VIDEO_MIN_PIXELS)"})
    max_pixels: int = field(default=768 * 28 * 28, metadata={"help": "largest frame area (VIDEO_MAX_PIXELS)"})
    total_pixels: int = field(default=24576 * 28 * 28, metadata={
        "help": "pixel budget of all frames together (VIDEO_TOTAL_PIXELS); lowers the per-frame area"})
    patch_size: int = field(default=14, metadata={"help": "ViT patch side in pixels"})
    merge_size: int = field(default=2, metadata={"help": "patches merged per side into one token"})
    temporal_patch_size: int = field(default=2, metadata={"help": "frames a patch spans"})


@register_tokenizer
class Qwen2VLVideoTokenizer(VideoTokenizer):
    family = "qwen2vl-video"
    description = "Qwen2-VL video: 2 fps (smart_nframes), smart_resize within the video pixel budget, 2x14x14 patches merged 2x2"
    Config = Qwen2VLVideoConfig

    def __init__(self, config: Qwen2VLVideoConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        check_positive(self.family, **{f.name: getattr(config, f.name) for f in dataclasses.fields(config)})
        if config.min_pixels > config.max_pixels:
            raise ConfigError(f"qwen2vl-video: min_pixels ({config.min_pixels}) is larger than max_pixels "
                              f"({config.max_pixels})")
        self.factor = config.patch_size * config.merge_size

    def plan(self, frames: int, fps: float, height: int, width: int) -> tuple[int, int, int]:
        """(nframes, h', w'): frames sampled and the size each is resized to."""
        c = self.config
        n = self.nframes(frames, fps)
        budget = qwen2vl_max_pixels(n, min_pixels=c.min_pixels, max_pixels=c.max_pixels, total_pixels=c.total_pixels)
        h, w = qwen2vl_smart_resize(height, width, factor=self.factor, min_pixels=c.min_pixels, max_pixels=budget)
        return n, h, w

    def nframes(self, frames: int, fps: float) -> int:
        """Frames sampled (smart_nframes)."""
        c = self.config
        return qwen2vl_nframes(frames, fps, fps=c.fps, nframes=c.nframes, min_frames=c.min_frames,
                               max_frames=c.max_frames)

    def source_frames(self, frames: int, fps: float) -> list[int]:
        return qwen2vl_frame_indices(frames, self.nframes(frames, fps))

    def count_for_shape(self, frames: int, fps: float, height: int, width: int) -> TokenCount:
        n, h, w = self.plan(frames, fps, height, width)
        grid_t = -(-n // self.config.temporal_patch_size)  # the processor pads an odd count with the last frame
        return self._result(n, h, w, grid_t * (h // self.factor) * (w // self.factor))

    def count_decoded(self, video: "Video") -> TokenCount:
        n, h, w = self.plan(video.num_frames, video.fps, video.height, video.width)
        indices = qwen2vl_frame_indices(video.num_frames, n)
        t = self.config.temporal_patch_size
        indices += indices[-1:] * (-len(indices) % t)  # Qwen2VLImageProcessor's padding of an odd count
        tokens = 0
        for batch in self.frame_chunks(video, indices, multiple=t):
            tokens += self.merged_patches(resize(batch, h, w)).shape[0]
        return self._result(n, h, w, tokens)

    def merged_patches(self, x: "torch.Tensor") -> "torch.Tensor":
        """(frames, 3, H, W) -> (tokens, merge^2 * 3 * temporal * patch^2), in Qwen2VLImageProcessor's order."""
        c = self.config
        f, ch, h, w = x.shape
        p, m, t = c.patch_size, c.merge_size, c.temporal_patch_size
        gt, gh, gw = f // t, h // p, w // p
        x = x.reshape(gt, t, ch, gh // m, m, p, gw // m, m, p)
        x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)  # gt, gh/m, gw/m, m, m, C, T, p, p
        return x.reshape(gt * (gh // m) * (gw // m), m * m * ch * t * p * p)

    def _result(self, nframes: int, h: int, w: int, tokens: int) -> TokenCount:
        return TokenCount(tokens=tokens, input_bytes=nframes * h * w * 3, counts={"sampled_frames": nframes})
