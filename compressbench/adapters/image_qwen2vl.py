"""``qwen2vl``: Qwen2-VL's dynamic resolution, as transformers' Qwen2VLImageProcessor prepares images.

The image is resized (bicubic, on the device) by ``smart_resize`` to multiples of
patch x merge = 28 pixels with its area within [min_pixels, max_pixels], cut into
14-pixel patches (each repeated over a temporal patch of 2, as for a still image)
and merged 2 x 2: one token per 28 x 28 pixels. Images whose long side is over
200 times the short one are refused, as Qwen2-VL refuses them. input_bytes is
the resized image, h' x w' x 3 (the temporal repetition adds no information).
``prompt_tokens`` adds <|vision_start|> and <|vision_end|> around the N
<|image_pad|> placeholders. ``preset=qwen2-vl|qwen2.5-vl`` takes the released
checkpoints' pixel budget (Qwen2.5-VL changed the encoder, not the count).

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("qwen2vl", device="cpu").count_for_shape(300, 451)  # 308 x 448 pixels
TokenCount(tokens=176, input_bytes=413952, counts={'prompt_tokens': 178, 'input_coverage': 1.0})
>>> get_tokenizer("qwen2vl:preset=qwen2.5-vl", device="cpu").tokens_for_shape(1080, 1920)  # 1092 x 1932
2691
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._fidelity import WHOLE, with_counts
from compressbench.adapters._image import ImageTokenizer, resize
from compressbench.adapters._image_geometry import qwen2vl_smart_resize
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch


TEMPORAL_PATCH_SIZE = 2  # frames a patch spans; a still image is repeated to fill it (N is unchanged)


# Pixel budgets (min_pixels, max_pixels) of the released checkpoints' preprocessor_config.json: Qwen/Qwen2-VL-7B-Instruct
# and Qwen/Qwen2.5-VL-7B-Instruct both ship 3136 .. 12845056 (56^2 .. 28^2 x 16384); the algorithm is the same.
PRESETS: dict[str, tuple[int, int]] = {
    "qwen2-vl": (3136, 12845056),
    "qwen2.5-vl": (3136, 12845056),
}
# Without a preset: Qwen2VLImageProcessor's class defaults (transformers), 56^2 .. 28^2 x 1280 pixels.
DEFAULT_PIXELS = (56 * 56, 28 * 28 * 1280)


@dataclass(frozen=True)
class Qwen2VLConfig:
    preset: str | None = field(default=None, metadata={
        "help": "released pixel budget: qwen2-vl or qwen2.5-vl (default: transformers' 56*56 .. 28*28*1280)"})
    min_pixels: int | None = field(default=None, metadata={
        "help": "smallest resized area in pixels (default: the preset's, else 56*56)"})
    max_pixels: int | None = field(default=None, metadata={
        "help": "largest resized area in pixels (default: the preset's, else 28*28*1280)"})
    patch_size: int = field(default=14, metadata={"help": "ViT patch side in pixels"})
    merge_size: int = field(default=2, metadata={"help": "patches merged per side into one token"})


def pixel_budget(family: str, config: Any, presets: dict[str, tuple[int, int]],
                 default: tuple[int, int]) -> tuple[int, int]:
    """(min_pixels, max_pixels): explicit options first, then the preset's, then ``default``; ConfigError if invalid."""
    if config.preset is not None and config.preset not in presets:
        raise ConfigError(f"{family}: unknown preset {config.preset!r}; choose one of {', '.join(presets)}")
    base = presets[config.preset] if config.preset is not None else default
    low = base[0] if config.min_pixels is None else config.min_pixels
    high = base[1] if config.max_pixels is None else config.max_pixels
    check_positive(family, min_pixels=low, max_pixels=high, patch_size=config.patch_size, merge_size=config.merge_size)
    if low > high:
        raise ConfigError(f"{family}: min_pixels ({low}) is larger than max_pixels ({high})")
    return low, high


@register_tokenizer
class Qwen2VLTokenizer(ImageTokenizer):
    family = "qwen2vl"
    description = "Qwen2-VL / Qwen2.5-VL dynamic resolution: smart_resize to multiples of 28, 14-px patches merged 2x2"
    Config = Qwen2VLConfig
    presets = PRESETS
    default_pixels = DEFAULT_PIXELS
    # <|vision_start|> and <|vision_end|> around the <|image_pad|> placeholders (one per merged token).
    prompt_extra = 2

    def __init__(self, config: Any, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.min_pixels, self.max_pixels = pixel_budget(self.family, config, self.presets, self.default_pixels)
        self.factor = config.patch_size * config.merge_size

    def fingerprint(self) -> str:
        """A hash of what changes N: the resolved pixel budget, not how it was named (a preset or options)."""
        config = {"min_pixels": self.min_pixels, "max_pixels": self.max_pixels,
                  "patch_size": self.config.patch_size, "merge_size": self.config.merge_size}
        blob = json.dumps({"family": self.family, "config": config}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the image is resized to."""
        return qwen2vl_smart_resize(height, width, factor=self.factor, min_pixels=self.min_pixels,
                                    max_pixels=self.max_pixels)

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        h, w = self.target_size(height, width)
        return self._result((h // self.factor) * (w // self.factor), h, w)

    def _result(self, tokens: int, height: int, width: int) -> TokenCount:
        return TokenCount(tokens=tokens, input_bytes=height * width * 3,
                          counts={"prompt_tokens": tokens + self.prompt_extra, **WHOLE})

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        h, w = self.target_size(*batch.shape[-2:])
        x = resize(batch, h, w)
        patches = self.merged_patches(x)
        tokens = patches.shape[1]
        return [with_counts(self._result(tokens, h, w), kept) for kept in self.round_trip(batch, x)]

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
