"""``mllama``: Llama 3.2 Vision tiles: up to 4 tiles of 560 px for a cross-attention language model.

Among the canvases of at most ``max_tiles`` tiles, the image takes the one that
needs the least upscaling, or else the least downscaling (the smallest area on a
tie); it is resized into it keeping its aspect ratio, padded and cut into tiles.
Each tile is (560 / 14)^2 = 1600 patch tokens plus a class token. The prompt
holds one <|image|> token (``prompt_tokens`` = 1), while the language model's
cross-attention layers attend to the encoder's tokens of every tile: those are
N = tiles x 1601.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("mllama", device="cpu").count_for_shape(1080, 1920)  # a 1120 x 1120 canvas: 2 x 2 tiles
TokenCount(tokens=6404, input_bytes=3763200, counts={'tiles': 4, 'prompt_tokens': 1, 'input_coverage': 1.0})
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
class MllamaConfig:
    # meta-llama/Llama-3.2-11B-Vision-Instruct: preprocessor_config.json size 560 x 560, max_image_tiles 4;
    # config.json vision_config.patch_size 14 (a class token is added to each tile's patches).
    tile_size: int = field(default=560, metadata={"help": "tile side in pixels"})
    max_tiles: int = field(default=4, metadata={"help": "most tiles an image is cut into"})
    patch_size: int = field(default=14, metadata={"help": "ViT patch side in pixels"})


def tile_canvas(height: int, width: int, *, tile_size: int = 560, max_tiles: int = 4) -> tuple[int, int]:
    """(rows, columns) of the canvas: the smallest upscale if any canvas upscales, else the mildest downscale.

    >>> tile_canvas(1080, 1920), tile_canvas(448, 448), tile_canvas(5000, 50)
    ((2, 2), (1, 1), (4, 1))
    """
    layouts = [(r, c) for r in range(1, max_tiles + 1) for c in range(1, max_tiles + 1) if r * c <= max_tiles]
    scales = {(r, c): min(r * tile_size / height, c * tile_size / width) for r, c in layouts}
    up = [s for s in scales.values() if s >= 1]
    best = min(up) if up else max(scales.values())
    return min((lay for lay in layouts if scales[lay] == best), key=lambda lay: lay[0] * lay[1])


def fit_to_canvas(height: int, width: int, canvas_h: int, canvas_w: int, tile_size: int) -> tuple[int, int]:
    """(height, width) the image is resized to inside its canvas, aspect ratio kept, no side under a tile
    where the canvas allows (transformers' ``get_image_size_fit_to_canvas``); the rest is padding.

    >>> fit_to_canvas(1080, 1920, 1120, 1120, 560)
    (630, 1120)
    """
    target_w = min(max(width, tile_size), canvas_w)
    target_h = min(max(height, tile_size), canvas_h)
    scale_h, scale_w = target_h / height, target_w / width
    if scale_w < scale_h:
        return min(math.floor(height * scale_w) or 1, target_h), target_w
    return target_h, min(math.floor(width * scale_h) or 1, target_w)


@register_tokenizer
class MllamaTokenizer(ImageTokenizer):
    family = "mllama"
    description = "Llama 3.2 Vision: up to 4 tiles of 560 px, 1601 encoder tokens a tile; 1 prompt token"
    Config = MllamaConfig

    def __init__(self, config: MllamaConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        check_positive(self.family, tile_size=config.tile_size, max_tiles=config.max_tiles, patch_size=config.patch_size)
        self.per_tile = (config.tile_size // config.patch_size) ** 2 + 1  # + the class token

    def canvas(self, height: int, width: int) -> tuple[int, int]:
        """(rows, columns) of tiles for an image of this size."""
        if height <= 0 or width <= 0:
            raise SampleError(f"image of {height}x{width} pixels has no area")
        return tile_canvas(height, width, tile_size=self.config.tile_size, max_tiles=self.config.max_tiles)

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        rows, cols = self.canvas(height, width)
        return self._result(rows * cols)

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        import torch.nn.functional as F

        h, w = batch.shape[-2:]
        rows, cols = self.canvas(h, w)
        s = self.config.tile_size
        view = resize(batch, *fit_to_canvas(h, w, rows * s, cols * s, s))  # the image as fitted, then padding
        x = F.pad(view, (0, cols * s - view.shape[-1], 0, rows * s - view.shape[-2]))
        tiles = x.reshape(*x.shape[:2], rows, s, cols, s).permute(0, 2, 4, 1, 3, 5).flatten(1, 2)
        return [with_counts(self._result(tiles.shape[1]), kept) for kept in self.round_trip(batch, view)]

    def _result(self, tiles: int) -> TokenCount:
        s = self.config.tile_size
        return TokenCount(tokens=tiles * self.per_tile, input_bytes=tiles * s * s * 3,
                          counts={"tiles": tiles, "prompt_tokens": 1, **WHOLE})
