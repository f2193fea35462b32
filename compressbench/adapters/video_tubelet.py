"""``tubelet``: ViViT / VideoMAE tubelet embedding, a Conv3d over clips of frames on the device.

Frames are taken at the native rate (or every ``stride``-th frame, or at ``fps``),
cut into consecutive clips of ``num_frames`` (the last one padded by repeating
its final frame), each frame resized (bicubic, antialiased) to ``image_size``
squared, and each clip embedded by a real ``torch.nn.Conv3d`` whose kernel and
stride are one tubelet (``tubelet_size`` frames x ``patch_size`` squared pixels).
N is read from the convolution's output shape. The default is VideoMAE's
(Tong et al. 2022) and ViViT's (Arnab et al. 2021) tubelet embedding: 16 frames at 224 x 224, tubelets
2 x 16 x 16 -> 8 x 14 x 14 = 1568 tokens a clip. input_bytes counts the frames of
every clip, padding included, at 224 x 224 x 3.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("tubelet", device="cpu").count_for_shape(16, 30.0, 270, 480).tokens
1568
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._image import resize
from compressbench.adapters._video import VideoTokenizer
from compressbench.adapters._video_geometry import sample_indices
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch

    from compressbench.data.video import Video

EMBED_DIM = 8  # channels of the embedding: only the output's token grid matters, so keep it small


@dataclass(frozen=True)
class TubeletConfig:
    # VideoMAE-Base / ViViT defaults (16 x 224 x 224 clips, 2 x 16 x 16 tubelets).
    num_frames: int = field(default=16, metadata={"help": "frames a clip; the last clip is padded to it"})
    image_size: int = field(default=224, metadata={"help": "side of the square each frame is resized to"})
    tubelet_size: int = field(default=2, metadata={"help": "frames a tubelet spans (the Conv3d's temporal stride)"})
    patch_size: int = field(default=16, metadata={"help": "pixel side of a tubelet (the Conv3d's spatial stride)"})
    fps: float | None = field(default=None, metadata={
        "help": "sample frames at this rate instead of the native one (never above it)"})
    stride: int | None = field(default=None, metadata={"help": "keep every stride-th frame instead (not with fps)"})


@register_tokenizer
class TubeletTokenizer(VideoTokenizer):
    family = "tubelet"
    description = "ViViT/VideoMAE tubelet embedding: clips of 16 frames at 224^2, Conv3d tubelets 2x16x16"
    Config = TubeletConfig

    def __init__(self, config: TubeletConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import torch

        check_positive(self.family, num_frames=config.num_frames, image_size=config.image_size,
                       tubelet_size=config.tubelet_size, patch_size=config.patch_size, fps=config.fps,
                       stride=config.stride)
        if config.num_frames % config.tubelet_size or config.image_size % config.patch_size:
            raise ConfigError(
                f"tubelet: num_frames ({config.num_frames}) must be a multiple of tubelet_size ({config.tubelet_size}) "
                f"and image_size ({config.image_size}) of patch_size ({config.patch_size}), as in ViViT and VideoMAE")
        if config.fps is not None and config.stride is not None:
            raise ConfigError("tubelet: give fps or stride, not both")
        kernel = (config.tubelet_size, config.patch_size, config.patch_size)
        self.conv = torch.nn.Conv3d(3, EMBED_DIM, kernel_size=kernel, stride=kernel, device=self.device).eval()

    def clip_indices(self, frames: int, fps: float) -> list[list[int]]:
        """The frame indices of each clip; the last clip repeats its final frame up to num_frames."""
        c = self.config
        kept = sample_indices(frames, fps, fps=c.fps, stride=c.stride)
        clips = [kept[k:k + c.num_frames] for k in range(0, len(kept), c.num_frames)]
        clips[-1] += [clips[-1][-1]] * (c.num_frames - len(clips[-1]))
        return clips

    def source_frames(self, frames: int, fps: float) -> list[int]:
        return [i for clip in self.clip_indices(frames, fps) for i in clip]

    def count_for_shape(self, frames: int, fps: float, height: int, width: int) -> TokenCount:
        c = self.config
        clips = math.ceil(len(sample_indices(frames, fps, fps=c.fps, stride=c.stride)) / c.num_frames)
        per_clip = (c.num_frames // c.tubelet_size) * (c.image_size // c.patch_size) ** 2
        return self._result(clips, clips * per_clip)

    def count_decoded(self, video: "Video") -> TokenCount:
        c = self.config
        clips = self.clip_indices(video.num_frames, video.fps)
        flat = [i for clip in clips for i in clip]
        tokens = 0
        for batch in self.frame_chunks(video, flat, multiple=c.num_frames):
            x = resize(batch, c.image_size, c.image_size)  # (B * num_frames, 3, S, S)
            x = x.reshape(-1, c.num_frames, 3, c.image_size, c.image_size).transpose(1, 2)  # (clips, 3, T, S, S)
            out = self.conv(x)  # (clips, D, T / t, S / p, S / p)
            tokens += out.shape[0] * out.shape[2] * out.shape[3] * out.shape[4]
        return self._result(len(clips), int(tokens))

    def _result(self, clips: int, tokens: int) -> TokenCount:
        c = self.config
        frames = clips * c.num_frames
        return TokenCount(tokens=tokens, input_bytes=frames * c.image_size ** 2 * 3,
                          counts={"sampled_frames": frames, "clips": clips})
