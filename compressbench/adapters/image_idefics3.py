"""``idefics3``: Idefics3 / SmolVLM image splitting: tiles of the encoder's size plus a global image.

The image is resized so its longest edge is ``longest_edge`` (up or down, the
other side kept in proportion and made even; never over 4096 pixels), then to
whole multiples of ``tile_size`` and split into rows x columns tiles; a global
image (the whole, resized to one tile) follows. Each tile becomes
``tokens_per_tile`` tokens (SigLIP patches, pixel-shuffled). An image that fits
in one tile is not split: the global image alone. ``tiles`` counts the global
image. ``prompt_tokens`` follows the processor's expansion: per tile
<fake_token_around_image>, <row_r_col_c> and its placeholders, a newline after
each row, then a newline, <fake_token_around_image>, <global-img>, its
placeholders and <fake_token_around_image> (a newline after the last row and
the one before the global image make "\\n\\n", one token in the Llama 3 and
SmolLM2 vocabularies).

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("idefics3", device="cpu").count_for_shape(768, 1024)  # 1456 x 1092 -> 3 x 4 tiles + global
TokenCount(tokens=2197, input_bytes=5167344, counts={'tiles': 13, 'prompt_tokens': 2227, 'input_coverage': 1.0})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._fidelity import WHOLE, with_counts
from compressbench.adapters._image import ImageTokenizer, preset_options, resize
from compressbench.core.errors import SampleError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch

MAX_SIDE = 4096  # the processors' absolute limit on the resized image's longest edge

# preprocessor_config.json (size.longest_edge, max_image_size.longest_edge) and processor_config.json
# (image_seq_len) of HuggingFaceM4/Idefics3-8B-Llama3, HuggingFaceTB/SmolVLM-Instruct, HuggingFaceTB/SmolVLM-256M-Instruct.
PRESETS: dict[str, dict[str, Any]] = {
    "idefics3": {"longest_edge": 4 * 364, "tile_size": 364, "tokens_per_tile": 169},
    "smolvlm": {"longest_edge": 4 * 384, "tile_size": 384, "tokens_per_tile": 81},
    "smolvlm-256m": {"longest_edge": 4 * 512, "tile_size": 512, "tokens_per_tile": 64},
}


@dataclass(frozen=True)
class Idefics3Config:
    preset: str = field(default="idefics3", metadata={"help": "released model: idefics3, smolvlm or smolvlm-256m"})
    longest_edge: int | None = field(default=None, metadata={
        "help": "longest edge in pixels the image is resized to before splitting (default: the preset's)"})
    tile_size: int | None = field(default=None, metadata={"help": "tile side in pixels (max_image_size)"})
    tokens_per_tile: int | None = field(default=None, metadata={"help": "tokens a tile becomes (image_seq_len)"})
    split: bool = field(default=True, metadata={"help": "split into tiles (do_image_splitting); false: global only"})


def _even_longest_edge(height: int, width: int, longest: int) -> tuple[int, int]:
    """The image rescaled so its longest edge is ``longest``, the other side truncated and made even (at least 1)."""
    aspect = width / height
    if width >= height:
        height, width = int(longest / aspect), longest
        height += height % 2
    else:
        height, width = longest, int(longest * aspect)
        width += width % 2
    return max(height, 1), max(width, 1)


def _within(height: int, width: int, limit: int) -> tuple[int, int]:
    """Scaled down (truncating) so the longest edge is at most ``limit``."""
    aspect = width / height
    if width >= height and width > limit:
        height, width = int(limit / aspect), limit
    elif height > width and height > limit:
        height, width = limit, int(limit * aspect)
    return max(height, 1), max(width, 1)


def split_grid(height: int, width: int, *, longest_edge: int, tile_size: int) -> tuple[int, int]:
    """(rows, columns) of tiles; (0, 0) when the resized image fits one tile (only the global image).

    >>> split_grid(1, 1, longest_edge=1456, tile_size=364), split_grid(50, 5000, longest_edge=1456, tile_size=364)
    ((4, 4), (1, 4))
    """
    h, w = _within(*_even_longest_edge(height, width, longest_edge), MAX_SIDE)
    rows, cols = math.ceil(h / tile_size), math.ceil(w / tile_size)
    return (0, 0) if rows == cols == 1 else (rows, cols)


@register_tokenizer
class Idefics3Tokenizer(ImageTokenizer):
    family = "idefics3"
    description = "Idefics3 / SmolVLM image splitting: tiles + a global image, tokens per tile"
    Config = Idefics3Config

    def __init__(self, config: Idefics3Config, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        o = preset_options(self.family, config, PRESETS)
        self.longest_edge, self.tile_size, self.per_tile = o["longest_edge"], o["tile_size"], o["tokens_per_tile"]

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """(rows, columns) of tiles besides the global image; (0, 0) for none."""
        if height <= 0 or width <= 0:
            raise SampleError(f"image of {height}x{width} pixels has no area")
        if not self.config.split:
            return 0, 0
        return split_grid(height, width, longest_edge=self.longest_edge, tile_size=self.tile_size)

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        return self._result(*self.grid(height, width))

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        tiles, view = self.tiles_and_view(batch)
        rows, cols = self.grid(*batch.shape[-2:])
        if tiles.shape[1] != rows * cols + 1:
            raise SampleError(f"{self.name}: split into {tiles.shape[1]} tiles, expected {rows * cols + 1}")
        return [with_counts(self._result(rows, cols), kept) for kept in self.round_trip(batch, view)]

    def _result(self, rows: int, cols: int) -> TokenCount:
        n, s = self.per_tile, self.tile_size
        tiles = rows * cols + 1
        prompt = (n + 3) + rows * (cols * (n + 2) + 1)
        return TokenCount(tokens=tiles * n, input_bytes=tiles * s * s * 3,
                          counts={"tiles": tiles, "prompt_tokens": prompt, **WHOLE})

    def tiles(self, batch: "torch.Tensor") -> "torch.Tensor":
        """(B, 3, H, W) -> (B, tiles, 3, size, size): the grid's tiles row by row, then the global image."""
        return self.tiles_and_view(batch)[0]

    def tiles_and_view(self, batch: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        """:meth:`tiles` and the highest-resolution view: the tiles as one image (the global image if unsplit)."""
        import torch

        s = self.tile_size
        rows, cols = self.grid(*batch.shape[-2:])
        b, ch = batch.shape[:2]
        glob = resize(batch, s, s)
        if rows == 0:
            return glob.unsqueeze(1), glob
        x = resize(batch, rows * s, cols * s)
        grid = x.reshape(b, ch, rows, s, cols, s).permute(0, 2, 4, 1, 3, 5).reshape(b, rows * cols, ch, s, s)
        return torch.cat([grid, glob.unsqueeze(1)], dim=1), x
