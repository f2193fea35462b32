"""``frames:TIMM_MODEL``: per-frame ViT tokens at a sampled frame rate, optionally pooled (LLaVA-Video style).

Frames are sampled at ``fps`` (1 by default; never above the native rate), at
most ``max_frames`` of them (over it, that many spread evenly, as LLaVA-Video), and
each goes through the ``vit:`` adapter's own machinery (a timm model built on the
meta device, its eval transform and patch embedding on the device: see
:mod:`compressbench.adapters.image_vit`). With ``pool`` = k the patch grid is
average-pooled k x k (``avg_pool2d``, flooring an odd side, as LLaVA-Video's
``get_2dPool``): CLIP ViT-L/14-336's 24 x 24 = 576 tokens become 12 x 12 = 144.
N = sampled frames x tokens a frame; class/register tokens are reported apart
(``prefix_tokens``). input_bytes = sampled frames x the model's input size x 3.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("frames:vit_large_patch14_clip_336,pool=2", device="cpu").count_for_shape(120, 30.0, 270, 480).tokens
576
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._video import VideoTokenizer
from compressbench.adapters._video_geometry import sample_indices, uniform_indices
from compressbench.adapters.image_vit import VitConfig, VitTokenizer
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    from compressbench.data.video import Video


@dataclass(frozen=True)
class FramesConfig(VitConfig):
    """The vit: encoder's options (model, img_size), LLaVA-1.5's encoder by default, and the frame sampling."""

    model: str = field(default="vit_large_patch14_clip_336", metadata={
        "help": "timm model name of a ViT-family encoder (as for vit:), e.g. vit_so400m_patch14_siglip_384"})
    fps: float = field(default=1.0, metadata={"help": "frames sampled a second (never above the native rate)"})
    max_frames: int | None = field(default=None, metadata={
        "help": "at most this many frames: over it, that many spread evenly over the video (LLaVA-Video: 64)"})
    pool: int = field(default=1, metadata={"help": "average-pool the patch grid pool x pool (LLaVA-Video: 2)"})


@register_tokenizer
class FramesTokenizer(VideoTokenizer):
    family = "frames"
    description = "per-frame ViT patch tokens of a timm encoder at a sampled fps, optionally pooled (LLaVA-Video)"
    Config = FramesConfig
    argument = "model"
    requires = ("torch", "numpy", "av", "timm")
    install_hint = "pip install timm torch av"

    def __init__(self, config: FramesConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import torch

        check_positive(self.family, fps=config.fps, pool=config.pool, max_frames=config.max_frames)
        vit_options = {f.name: getattr(config, f.name) for f in dataclasses.fields(VitConfig)}
        self.vit = VitTokenizer(VitConfig(**vit_options), device=self.device)
        self.encoder_params, self.prefix_tokens = self.vit.encoder_params, self.vit.prefix_tokens
        h, w = self.vit.input_size
        with torch.inference_mode():  # the pooled grid of one frame, from the real embedding's output
            self.tokens_per_frame = self.tokens_of(self.vit.patch_grid(torch.zeros(1, 3, h, w, device=self.device)))
        if self.tokens_per_frame == 0:
            raise ConfigError(f"frames: pool={config.pool} is larger than {config.model}'s patch grid")

    def tokens_of(self, grid: Any) -> int:
        """Tokens a frame of a (B, C, rows, columns) patch grid, after pooling."""
        import torch.nn.functional as F

        k = self.config.pool
        if k > 1:
            if min(grid.shape[-2:]) < k:
                return 0
            grid = F.avg_pool2d(grid, kernel_size=k, stride=k)
        return int(grid.shape[-2] * grid.shape[-1])

    def frame_indices(self, frames: int, fps: float) -> list[int]:
        """One frame a 1/fps seconds; over max_frames, max_frames spread evenly instead (as LLaVA-Video)."""
        indices = sample_indices(frames, fps, fps=self.config.fps)
        cap = self.config.max_frames
        return uniform_indices(frames, cap) if cap is not None and len(indices) > cap else indices

    def source_frames(self, frames: int, fps: float) -> list[int]:
        return self.frame_indices(frames, fps)

    def count_for_shape(self, frames: int, fps: float, height: int, width: int) -> TokenCount:
        n = len(self.frame_indices(frames, fps))
        return self._result(n, n * self.tokens_per_frame)

    def count_decoded(self, video: "Video") -> TokenCount:
        indices = self.frame_indices(video.num_frames, video.fps)
        tokens = 0
        for batch in self.frame_chunks(video, indices):
            grid = self.vit.patch_grid(batch)
            tokens += grid.shape[0] * self.tokens_of(grid)
        return self._result(len(indices), tokens)

    def _result(self, frames: int, tokens: int) -> TokenCount:
        h, w = self.vit.input_size
        return TokenCount(tokens=tokens, input_bytes=frames * h * w * 3,
                          counts={"sampled_frames": frames, "prefix_tokens": frames * self.prefix_tokens})

    def identity(self) -> dict[str, Any]:
        vit = {k: v for k, v in self.vit.identity().items() if k not in ("spec", "family", "config", "sha256")}
        return {**super().identity(), **vit, "tokens_per_frame": self.tokens_per_frame}

    def fingerprint(self) -> str:
        import hashlib
        import json

        blob = json.dumps({"base": super().fingerprint(), "vit": self.vit.fingerprint()})
        return hashlib.sha256(blob.encode()).hexdigest()
