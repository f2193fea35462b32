"""``qwen2vl``: Qwen2-VL's dynamic resolution, as transformers' Qwen2VLImageProcessor prepares images.

The image is resized (bicubic, on the device) by ``smart_resize`` to multiples of
patch x merge = 28 pixels with its area within [min_pixels, max_pixels], cut into
14-pixel patches (each repeated over a temporal patch of 2, as for a still image)
and merged 2 x 2: one token per 28 x 28 pixels. Images whose long side is over
200 times the short one are refused, as Qwen2-VL refuses them. input_bytes is
the resized image, h' x w' x 3 (the temporal repetition adds no information).

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("qwen2vl", device="cpu").tokens_for_shape(300, 451)  # 308 x 448 pixels
176
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._image import ImageTokenizer, resize
from compressbench.adapters._image_geometry import qwen2vl_smart_resize
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch


TEMPORAL_PATCH_SIZE = 2  # frames a patch spans; a still image is repeated to fill it (N is unchanged)


@dataclass(frozen=True)
class Qwen2VLConfig:
    # Qwen2VLImageProcessor's defaults (preprocessor_config.json of Qwen/Qwen2-VL-*-Instruct).
    min_pixels: int = field(default=56 * 56, metadata={"help": "smallest resized area in pixels (56*56)"})
    max_pixels: int = field(default=28 * 28 * 1280, metadata={"help": "largest resized area in pixels (28*28*1280)"})
    patch_size: int = field(default=14, metadata={"help": "ViT patch side in pixels"})
    merge_size: int = field(default=2, metadata={"help": "patches merged per side into one token"})


@register_tokenizer
class Qwen2VLTokenizer(ImageTokenizer):
    family = "qwen2vl"
    description = "Qwen2-VL dynamic resolution: smart_resize to multiples of 28, 14-px patches merged 2x2"
    Config = Qwen2VLConfig

    def __init__(self, config: Qwen2VLConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        check_positive(self.family, min_pixels=config.min_pixels, max_pixels=config.max_pixels,
                       patch_size=config.patch_size, merge_size=config.merge_size)
        if config.min_pixels > config.max_pixels:
            raise ConfigError(
                f"qwen2vl: min_pixels ({config.min_pixels}) is larger than max_pixels ({config.max_pixels})")
        self.factor = config.patch_size * config.merge_size

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the image is resized to."""
        c = self.config
        return qwen2vl_smart_resize(height, width, factor=self.factor, min_pixels=c.min_pixels, max_pixels=c.max_pixels)

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        h, w = self.target_size(height, width)
        return TokenCount(tokens=(h // self.factor) * (w // self.factor), input_bytes=h * w * 3)

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        h, w = self.target_size(*batch.shape[-2:])
        x = resize(batch, h, w)
        patches = self.merged_patches(x)
        b, tokens, _ = patches.shape
        return [TokenCount(tokens=tokens, input_bytes=h * w * 3) for _ in range(b)]

    def merged_patches(self, x: "torch.Tensor") -> "torch.Tensor":
        """(B, 3, H, W) -> (B, tokens, merge^2 * 3 * temporal * patch^2), in Qwen2-VL's patch order."""
        c = self.config
        b, ch, h, w = x.shape
        p, m, t = c.patch_size, c.merge_size, TEMPORAL_PATCH_SIZE
        gh, gw = h // p, w // p
        # A still image fills the temporal patch by repetition (expand: no copy until the reshape).
        x = x.unsqueeze(1).expand(b, t, ch, h, w)
        x = x.reshape(b, t, ch, gh // m, m, p, gw // m, m, p)
        x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)  # B, gh/m, gw/m, m, m, C, T, p, p
        return x.reshape(b, (gh // m) * (gw // m), m * m * ch * t * p * p)
