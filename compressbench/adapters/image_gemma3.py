"""``gemma3``: Gemma 3's SigLIP encoder at 896 px, 256 tokens an image, with optional pan-and-scan crops.

Every image is resized (bicubic, on the device) to 896 x 896: 64 x 64 patches of
14 pixels, average-pooled 4 x 4 to 256 tokens. With ``pan_and_scan=true`` an
image whose aspect ratio reaches ``min_ratio`` is also cut along its long side
into 2..``max_crops`` equal crops (about one per unit of aspect ratio, none
smaller than ``min_crop_size``), each encoded like a whole image; ``tiles`` is
the image plus its crops. ``prompt_tokens`` counts, for each of them, the 256
<image_soft_token> placeholders, <start_of_image> and <end_of_image>, and the
blank line ("\\n\\n", one token in Gemma 3's vocabulary) the processor puts
before and after; the sentence the processor writes between the image and its
crops is ordinary text and is not counted.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("gemma3", device="cpu").count_for_shape(1080, 1920)
TokenCount(tokens=256, input_bytes=2408448, counts={'tiles': 1, 'prompt_tokens': 260, 'input_coverage': 1.0})
>>> get_tokenizer("gemma3:pan_and_scan=true", device="cpu").count_for_shape(1080, 1920).counts["tiles"]  # + 2 crops
3
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._fidelity import WHOLE, fidelity, restore, with_counts
from compressbench.adapters._image import ImageTokenizer, resize
from compressbench.core.errors import ConfigError, SampleError
from compressbench.adapters.base import check_positive
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch

PROMPT_FRAME = 4  # <start_of_image>, <end_of_image> and the "\n\n" before and after


@dataclass(frozen=True)
class Gemma3Config:
    # google/gemma-3-4b-it (also 12b-it, 27b-it): preprocessor_config.json size 896 x 896, processor_config.json
    # image_seq_length 256; pan-and-scan is off there, its settings are Gemma3Processor's defaults.
    image_size: int = field(default=896, metadata={"help": "side in pixels every image and crop is resized to"})
    tokens_per_image: int = field(default=256, metadata={"help": "tokens an image or crop becomes (image_seq_length)"})
    pan_and_scan: bool = field(default=False, metadata={"help": "also encode crops along the long side"})
    min_crop_size: int = field(default=256, metadata={"help": "pan-and-scan: smallest crop side in pixels"})
    max_crops: int = field(default=4, metadata={"help": "pan-and-scan: most crops an image is cut into"})
    min_ratio: float = field(default=1.2, metadata={"help": "pan-and-scan: aspect ratio from which crops are made"})


def pan_and_scan_grid(height: int, width: int, *, min_crop_size: int = 256, max_crops: int = 4,
                      min_ratio: float = 1.2) -> tuple[int, int]:
    """(rows, columns) of Gemma 3's pan-and-scan crops, (0, 0) when the image gets none.

    >>> pan_and_scan_grid(1080, 1920), pan_and_scan_grid(300, 5000), pan_and_scan_grid(500, 500)
    ((1, 2), (1, 4), (0, 0))
    """
    long, short = max(height, width), min(height, width)
    if long / short < min_ratio:
        return 0, 0
    n = min(math.floor(long / short + 0.5), math.floor(long / min_crop_size))  # one crop per unit of aspect ratio
    n = min(max_crops, max(2, n))
    if min(math.ceil(long / n), short) < min_crop_size:
        return 0, 0
    return (1, n) if width >= height else (n, 1)


@register_tokenizer
class Gemma3Tokenizer(ImageTokenizer):
    family = "gemma3"
    description = "Gemma 3: SigLIP at 896 px, 256 tokens an image, optional pan-and-scan crops"
    Config = Gemma3Config

    def __init__(self, config: Gemma3Config, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        check_positive(self.family, image_size=config.image_size, tokens_per_image=config.tokens_per_image,
                       min_crop_size=config.min_crop_size, max_crops=config.max_crops)
        if config.min_ratio < 1:
            raise ConfigError(f"gemma3 option min_ratio must be at least 1, got {config.min_ratio}")

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """(rows, columns) of pan-and-scan crops for an image of this size; (0, 0) for none."""
        if height <= 0 or width <= 0:
            raise SampleError(f"image of {height}x{width} pixels has no area")
        c = self.config
        if not c.pan_and_scan:
            return 0, 0
        return pan_and_scan_grid(height, width, min_crop_size=c.min_crop_size, max_crops=c.max_crops,
                                 min_ratio=c.min_ratio)

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        rows, cols = self.grid(height, width)
        return self._result(1 + rows * cols)

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        views = self.views(batch)
        return [with_counts(self._result(views.shape[1]), kept) for kept in self.fidelity(batch, views)]

    def fidelity(self, batch: "torch.Tensor", views: "torch.Tensor") -> list[dict[str, float]]:
        """PSNR and SSIM of the highest-resolution view: with pan-and-scan crops, the crops each resized back
        into their place; without, the whole image at image_size."""
        import torch

        h, w = batch.shape[-2:]
        rows, cols = self.grid(h, w)
        if rows == 0 or not self.measure_fidelity:
            return self.round_trip(batch, views[:, 0])
        restored = torch.empty_like(batch)
        ch, cw = math.ceil(h / rows), math.ceil(w / cols)
        for r in range(rows):
            for k in range(cols):
                place = restored[..., r * ch:(r + 1) * ch, k * cw:(k + 1) * cw]
                place.copy_(restore(views[:, 1 + r * cols + k], *place.shape[-2:]))
        return fidelity(batch, restored)

    def _result(self, tiles: int) -> TokenCount:
        c = self.config
        return TokenCount(tokens=tiles * c.tokens_per_image, input_bytes=tiles * c.image_size ** 2 * 3,
                          counts={"tiles": tiles, "prompt_tokens": tiles * (c.tokens_per_image + PROMPT_FRAME),
                                  **WHOLE})

    def views(self, batch: "torch.Tensor") -> "torch.Tensor":
        """(B, 3, H, W) -> (B, 1 + crops, 3, size, size): the whole image, then its crops row by row."""
        import torch

        s = self.config.image_size
        h, w = batch.shape[-2:]
        rows, cols = self.grid(h, w)
        out = [resize(batch, s, s)]
        ch, cw = math.ceil(h / max(rows, 1)), math.ceil(w / max(cols, 1))
        for r in range(rows):
            for k in range(cols):
                out.append(resize(batch[..., r * ch:(r + 1) * ch, k * cw:(k + 1) * cw], s, s))
        return torch.stack(out, dim=1)
