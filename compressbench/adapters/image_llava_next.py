"""``llava-next``: LLaVA-NeXT (1.6) and LLaVA-OneVision any-resolution grids.

Among ``grid_pinpoints`` (canvas sizes, multiples of the base resolution) the
image takes the one that keeps most of its pixels and wastes least
(``select_best_resolution``); it is resized into it, padded, and cut into tiles of
the base resolution, each encoded to (base / patch)^2 patch features, plus the
whole image at the base resolution. The language model receives the base image's
features, then the tiles' features with the padding removed (unpadding), one
learned newline embedding ending each row; LLaVA-OneVision then shrinks the
tiles' features bilinearly when they exceed ``max_patches`` (anyres_max_9) base
images' worth. The prompt's <image> placeholder expands to exactly these N
positions, so ``prompt_tokens`` = N. ``tiles`` = the grid's tiles + the base image.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("llava-next", device="cpu").count_for_shape(768, 1024)  # 672 x 672 canvas: 2 x 2 tiles
TokenCount(tokens=2340, input_bytes=1693440, counts={'tiles': 5, 'prompt_tokens': 2340, 'input_coverage': 1.0})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compressbench.adapters._fidelity import WHOLE, with_counts
from compressbench.adapters._image import ImageTokenizer, preset_options, resize
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch

# llava-hf/llava-v1.6-mistral-7b-hf (and the vicuna and 34b releases): CLIP ViT-L/14-336, five 336-multiples.
LLAVA_V16_PINPOINTS = "336x672;672x336;672x672;1008x336;336x1008"
# llava-hf/llava-onevision-qwen2-7b-ov-hf: SigLIP-so400m/14-384, 1..6 x 1..6 tiles of 384 px, anyres_max_9.
ONEVISION_PINPOINTS = ";".join(f"{r * 384}x{c * 384}" for r in range(1, 7) for c in range(1, 7))
PRESETS: dict[str, dict[str, Any]] = {
    "llava-v1.6": {"grid_pinpoints": LLAVA_V16_PINPOINTS, "image_size": 336, "patch_size": 14, "max_patches": 0},
    "llava-onevision": {"grid_pinpoints": ONEVISION_PINPOINTS, "image_size": 384, "patch_size": 14, "max_patches": 9},
}


@dataclass(frozen=True)
class LlavaNextConfig:
    # The values of each preset are the released checkpoint's preprocessor_config.json (image_grid_pinpoints,
    # crop_size) and config.json (vision_config.patch_size, vision_aspect_ratio), cited in PRESETS.
    preset: str = field(default="llava-v1.6", metadata={"help": "released model: llava-v1.6 or llava-onevision"})
    grid_pinpoints: str | None = field(default=None, metadata={
        "help": "canvas sizes HxW separated by ';', e.g. 336x672;672x336 (default: the preset's)"})
    image_size: int | None = field(default=None, metadata={"help": "base resolution and tile side in pixels"})
    patch_size: int | None = field(default=None, metadata={"help": "ViT patch side in pixels"})
    max_patches: int | None = field(default=None, metadata={
        "help": "tiles' features are shrunk beyond this many base images' worth (anyres_max_N; 0: never)"})


def parse_pinpoints(text: str) -> list[tuple[int, int]]:
    """'336x672;672x336' -> [(336, 672), (672, 336)]; ConfigError naming the bad entry."""
    out = []
    for item in text.split(";"):
        h, sep, w = item.strip().partition("x")
        if not (sep and h.isdigit() and w.isdigit() and int(h) > 0 and int(w) > 0):
            raise ConfigError(f"llava-next grid_pinpoints entry {item!r}: expected HEIGHTxWIDTH in pixels, e.g. 336x672")
        out.append((int(h), int(w)))
    return out


def best_resolution(height: int, width: int, pinpoints: list[tuple[int, int]]) -> tuple[int, int]:
    """The canvas that keeps the most of the image's pixels, then wastes the fewest (first wins a tie).

    >>> best_resolution(768, 1024, parse_pinpoints(LLAVA_V16_PINPOINTS))
    (672, 672)
    """
    best, best_kept, best_waste = pinpoints[0], -1, math.inf
    for ch, cw in pinpoints:
        scale = min(cw / width, ch / height)
        kept = min(int(width * scale) * int(height * scale), width * height)
        waste = ch * cw - kept
        if kept > best_kept or (kept == best_kept and waste < best_waste):
            best, best_kept, best_waste = (ch, cw), kept, waste
    return best


def unpadded_features(height: int, width: int, rows: int, cols: int, max_patches: int,
                      grid: int) -> tuple[int, int]:
    """(features, feature rows) of the tiles' rows x cols feature map once the padding is cut off (and shrunk)."""
    if width / height > cols / rows:  # wider than the canvas: padding above and below
        rows -= 2 * ((rows - int(round(height * (cols / width), 7))) // 2)
    else:
        cols -= 2 * ((cols - int(round(width * (rows / height), 7))) // 2)
    ratio = math.sqrt(rows * cols / (max_patches * grid * grid)) if max_patches else 0.0
    if ratio > 1.1:
        rows, cols = int(rows // ratio), int(cols // ratio)
    return rows * cols, rows


@register_tokenizer
class LlavaNextTokenizer(ImageTokenizer):
    family = "llava-next"
    description = "LLaVA-NeXT / OneVision any-resolution grid: base image + unpadded tiles + a newline per row"
    Config = LlavaNextConfig

    def __init__(self, config: LlavaNextConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        o = preset_options(self.family, config, PRESETS, zero_ok=("max_patches",))
        self.pinpoints = parse_pinpoints(o["grid_pinpoints"])
        self.size, self.max_patches = o["image_size"], o["max_patches"] or 0
        self.grid = o["image_size"] // o["patch_size"]
        if self.grid < 1:
            raise ConfigError(f"llava-next: patch_size {o['patch_size']} is larger than image_size {self.size}")
        bad = [f"{h}x{w}" for h, w in self.pinpoints if h % self.size or w % self.size]
        if bad:
            raise ConfigError(f"llava-next grid_pinpoints {', '.join(bad)}: not multiples of image_size {self.size}")

    def canvas(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) of the grid canvas the image is fitted into."""
        if height <= 0 or width <= 0:
            raise SampleError(f"image of {height}x{width} pixels has no area")
        return best_resolution(height, width, self.pinpoints)

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        ch, cw = self.canvas(height, width)
        return self._result(height, width, ch // self.size, cw // self.size)

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        h, w = batch.shape[-2:]
        tiles, view = self.tiles_and_view(batch)
        result = self._result(h, w, tiles.shape[1], tiles.shape[2])
        return [with_counts(result, kept) for kept in self.round_trip(batch, view)]

    def _result(self, height: int, width: int, rows: int, cols: int) -> TokenCount:
        g = self.grid
        features, feature_rows = unpadded_features(height, width, g * rows, g * cols, self.max_patches, g)
        tokens = g * g + features + feature_rows
        tiles = 1 + rows * cols
        return TokenCount(tokens=tokens, input_bytes=tiles * self.size ** 2 * 3,
                          counts={"tiles": tiles, "prompt_tokens": tokens, **WHOLE})

    def tiles(self, batch: "torch.Tensor") -> "torch.Tensor":
        """(B, 3, H, W) -> (B, rows, cols, 3, size, size): the image fitted into its canvas, padded, cut."""
        return self.tiles_and_view(batch)[0]

    def tiles_and_view(self, batch: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        """:meth:`tiles` and the highest-resolution view: the image as fitted into the canvas, without the padding."""
        import torch.nn.functional as F

        h, w = batch.shape[-2:]
        ch, cw = self.canvas(h, w)
        scale = min(cw / w, ch / h)
        nh, nw = min(ch, math.ceil(h * scale)), min(cw, math.ceil(w * scale))
        view = resize(batch, nh, nw)
        top, left = (ch - nh) // 2, (cw - nw) // 2
        x = F.pad(view, (left, cw - nw - left, top, ch - nh - top))
        s, (b, c) = self.size, batch.shape[:2]
        return x.reshape(b, c, ch // s, s, cw // s, s).permute(0, 2, 4, 1, 3, 5), view
