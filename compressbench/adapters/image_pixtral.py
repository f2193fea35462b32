"""``pixtral``: Pixtral's native resolution: 16-pixel patches within a longest-edge limit, a break token a row.

An image larger than ``longest_edge`` on either side is scaled down to fit
(both sides divided by the same ratio, truncated); then each side is rounded up
to whole patches (``patch_size`` x ``merge_size``), so N = rows x columns. The
prompt ends each row of placeholders with [IMG_BREAK] and the last with
[IMG_END]: ``prompt_tokens`` = rows x (columns + 1). An image so thin that a side
truncates to zero pixels is refused.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("pixtral", device="cpu").count_for_shape(1080, 1920)  # 576 x 1024 pixels: 36 x 64 patches
TokenCount(tokens=2304, input_bytes=1769472, counts={'prompt_tokens': 2340, 'input_coverage': 1.0})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._fidelity import WHOLE, with_counts
from compressbench.adapters._image import ImageTokenizer, resize
from compressbench.core.errors import SampleError
from compressbench.adapters.base import check_positive
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class PixtralConfig:
    # mistral-community/pixtral-12b: preprocessor_config.json patch_size 16, size.longest_edge 1024;
    # processor_config.json spatial_merge_size 1 (Mistral-Small-3.1 uses patch 14, longest_edge 1540, merge 2).
    patch_size: int = field(default=16, metadata={"help": "ViT patch side in pixels"})
    longest_edge: int = field(default=1024, metadata={"help": "largest side in pixels an image is scaled down to"})
    merge_size: int = field(default=1, metadata={"help": "patches merged per side into one token"})


@register_tokenizer
class PixtralTokenizer(ImageTokenizer):
    family = "pixtral"
    description = "Pixtral: 16-px patches within a 1024-px longest edge, [IMG_BREAK] per row, [IMG_END]"
    Config = PixtralConfig

    def __init__(self, config: PixtralConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        check_positive(self.family, patch_size=config.patch_size, longest_edge=config.longest_edge,
                       merge_size=config.merge_size)
        self.unit = config.patch_size * config.merge_size

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) in pixels after the scaling and the rounding up to whole patches."""
        if height <= 0 or width <= 0:
            raise SampleError(f"image of {height}x{width} pixels has no area")
        ratio = max(height, width) / self.config.longest_edge
        h, w = (math.floor(height / ratio), math.floor(width / ratio)) if ratio > 1 else (height, width)
        if h == 0 or w == 0:
            raise SampleError(f"image of {height}x{width} pixels is too thin for pixtral: scaled to fit "
                              f"{self.config.longest_edge} px its short side has no pixel left")
        return math.ceil(h / self.unit) * self.unit, math.ceil(w / self.unit) * self.unit

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        return self._result(*self.target_size(height, width))

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        h, w = self.target_size(*batch.shape[-2:])
        x = resize(batch, h, w)
        return [with_counts(self._result(*x.shape[-2:]), kept) for kept in self.round_trip(batch, x)]

    def _result(self, height: int, width: int) -> TokenCount:
        rows, cols = height // self.unit, width // self.unit
        return TokenCount(tokens=rows * cols, input_bytes=height * width * 3,
                          counts={"prompt_tokens": rows * (cols + 1), **WHOLE})
