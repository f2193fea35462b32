"""Pure-Python geometry of the image tokenizers: target sizes and tile grids from a shape alone.

These functions are the single source of each model's resize rule; the adapters
use them to pick the tensor sizes on the device, and count-only mode uses them
to get N without decoding a pixel. They follow the published code line by line,
float arithmetic included, because rounding there changes token counts.

>>> qwen2vl_smart_resize(300, 451)
(308, 448)
>>> internvl_grid(300, 451)  # (columns, rows) of 448-pixel tiles
(3, 2)
"""

from __future__ import annotations

import math

from compressbench.core.errors import SampleError

QWEN2VL_MAX_RATIO = 200  # Qwen2-VL refuses images whose long side exceeds 200x the short side


def qwen2vl_smart_resize(
    height: int, width: int, *, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 1280
) -> tuple[int, int]:
    """(height, width) after Qwen2-VL's ``smart_resize`` (transformers' Qwen2VLImageProcessor).

    Both sides become multiples of ``factor`` (patch 14 x merge 2 = 28), the aspect ratio is
    kept as well as that allows, and the area is brought within [min_pixels, max_pixels].
    """
    if height <= 0 or width <= 0:
        raise SampleError(f"image of {height}x{width} pixels has no area")
    if max(height, width) / min(height, width) > QWEN2VL_MAX_RATIO:
        raise SampleError(
            f"aspect ratio of {height}x{width} (HxW) is {max(height, width) / min(height, width):.1f}, "
            f"over Qwen2-VL's limit of {QWEN2VL_MAX_RATIO}"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def internvl_target_ratios(min_num: int = 1, max_num: int = 12) -> list[tuple[int, int]]:
    """The (columns, rows) grids InternVL considers, in its own order (by tile count).

    Built exactly as InternVL's ``dynamic_preprocess`` builds it (a set, then a stable sort
    by area), because the order decides ties in :func:`internvl_grid`.
    """
    target_ratios = set(
        (i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1)
        if min_num <= i * j <= max_num
    )
    return sorted(target_ratios, key=lambda x: x[0] * x[1])


def internvl_grid(
    height: int, width: int, *, image_size: int = 448, min_num: int = 1, max_num: int = 12
) -> tuple[int, int]:
    """(columns, rows) of InternVL's dynamic tiling: ``find_closest_aspect_ratio``.

    The grid whose aspect ratio is closest to the image's wins; on a tie the later
    (larger) grid wins only if the image has more than half its pixel area.
    """
    if height <= 0 or width <= 0:
        raise SampleError(f"image of {height}x{width} pixels has no area")
    aspect_ratio = width / height
    area = width * height
    best_ratio_diff = float("inf")
    best_ratio = (1, 1)
    for ratio in internvl_target_ratios(min_num, max_num):
        ratio_diff = abs(aspect_ratio - ratio[0] / ratio[1])
        if ratio_diff < best_ratio_diff:
            best_ratio_diff = ratio_diff
            best_ratio = ratio
        elif ratio_diff == best_ratio_diff and area > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
            best_ratio = ratio
    return best_ratio


def internvl_tiles(height: int, width: int, *, image_size: int = 448, min_num: int = 1, max_num: int = 12,
                   use_thumbnail: bool = True) -> int:
    """Tiles InternVL encodes for an image: the grid's, plus a thumbnail when there is more than one."""
    cols, rows = internvl_grid(height, width, image_size=image_size, min_num=min_num, max_num=max_num)
    blocks = cols * rows
    return blocks + 1 if use_thumbnail and blocks != 1 else blocks
