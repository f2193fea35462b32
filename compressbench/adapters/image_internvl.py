"""``internvl``: InternVL 1.5+ dynamic tiling, as its ``dynamic_preprocess`` prepares images.

Among the grids of min_num..max_num tiles, the one whose aspect ratio is closest
to the image's is chosen (``find_closest_aspect_ratio``); the image is resized
(bicubic, on the device) to fill it with 448 x 448 tiles and split; a thumbnail
of the whole image is added when there is more than one tile. Each tile is 256
tokens (448 / 14 = 32 patches a side, pixel-shuffled by 0.5 to 16 x 16).
input_bytes counts every tile, thumbnail included: tiles x 448 x 448 x 3.
``prompt_tokens`` adds <img> and </img> around the N <IMG_CONTEXT> placeholders.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("internvl", device="cpu").tokens_for_shape(300, 451)  # 3 x 2 tiles + thumbnail
1792
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._fidelity import WHOLE, with_counts
from compressbench.adapters._image import ImageTokenizer, resize
from compressbench.adapters._image_geometry import internvl_grid, internvl_tiles
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class InternVLConfig:
    # InternVL-Chat-V1.5 / InternVL2 / 2.5 defaults (load_image(..., max_num=12) of their model cards).
    image_size: int = field(default=448, metadata={"help": "tile side in pixels"})
    min_num: int = field(default=1, metadata={"help": "fewest tiles a grid may have"})
    max_num: int = field(default=12, metadata={"help": "most tiles a grid may have"})
    use_thumbnail: bool = field(default=True, metadata={
        "help": "add a whole-image thumbnail tile when there is more than one tile"})
    tokens_per_tile: int = field(default=256, metadata={"help": "tokens the vision encoder gives a tile"})


@register_tokenizer
class InternVLTokenizer(ImageTokenizer):
    family = "internvl"
    description = "InternVL dynamic tiling: 448-px tiles by closest aspect ratio (1..12), thumbnail, 256 tokens/tile"
    Config = InternVLConfig

    def __init__(self, config: InternVLConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        check_positive(self.family, image_size=config.image_size, min_num=config.min_num, max_num=config.max_num,
                       tokens_per_tile=config.tokens_per_tile)
        if config.min_num > config.max_num:
            raise ConfigError(f"internvl: min_num ({config.min_num}) is larger than max_num ({config.max_num})")

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """(columns, rows) of tiles for an image of this size."""
        c = self.config
        return internvl_grid(height, width, image_size=c.image_size, min_num=c.min_num, max_num=c.max_num)

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        c = self.config
        tiles = internvl_tiles(height, width, image_size=c.image_size, min_num=c.min_num, max_num=c.max_num,
                               use_thumbnail=c.use_thumbnail)
        return self._result(tiles)

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        view = self.grid_image(batch)  # the highest-resolution view: the tiles as one image
        tiles = self.tiles(batch, view)
        return [with_counts(self._result(tiles.shape[1]), kept) for kept in self.round_trip(batch, view)]

    def _result(self, tiles: int) -> TokenCount:
        s = self.config.image_size
        tokens = tiles * self.config.tokens_per_tile
        return TokenCount(tokens=tokens, input_bytes=tiles * s * s * 3,
                          counts={"tiles": tiles, "prompt_tokens": tokens + 2, **WHOLE})  # + <img> and </img>

    def grid_image(self, batch: "torch.Tensor") -> "torch.Tensor":
        """(B, 3, H, W) -> (B, 3, rows x size, columns x size): the image resized to fill its grid."""
        s = self.config.image_size
        cols, rows = self.grid(*batch.shape[-2:])
        return resize(batch, rows * s, cols * s)

    def tiles(self, batch: "torch.Tensor", x: "torch.Tensor | None" = None) -> "torch.Tensor":
        """(B, 3, H, W) -> (B, tiles, 3, size, size): the grid's tiles row by row, then the thumbnail
        (``x``: the :meth:`grid_image`, when already made)."""
        import torch

        s = self.config.image_size
        cols, rows = self.grid(*batch.shape[-2:])
        b, ch = batch.shape[:2]
        x = self.grid_image(batch) if x is None else x
        tiles = x.reshape(b, ch, rows, s, cols, s).permute(0, 2, 4, 1, 3, 5).reshape(b, rows * cols, ch, s, s)
        if self.config.use_thumbnail and rows * cols != 1:
            thumbnail = resize(batch, s, s).unsqueeze(1)
            tiles = torch.cat([tiles, thumbnail], dim=1)
        return tiles
