"""``qwen3vl``: Qwen3-VL's dynamic resolution: Qwen2-VL's algorithm with 16-pixel patches merged 2 x 2.

The released processor (Qwen/Qwen3-VL-8B-Instruct, preprocessor_config.json) is
transformers' Qwen2VLImageProcessor with ``patch_size`` 16 and ``size``
{shortest_edge: 65536, longest_edge: 16777216}: ``smart_resize`` to multiples of
32 pixels, one token per 32 x 32 pixels. ``prompt_tokens`` adds
<|vision_start|> and <|vision_end|> around the N <|image_pad|> placeholders.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("qwen3vl", device="cpu").count_for_shape(768, 1024)  # 768 x 1024 pixels: 24 x 32 tokens
TokenCount(tokens=768, input_bytes=2359296, counts={'prompt_tokens': 770, 'input_coverage': 1.0})
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compressbench.adapters.image_qwen2vl import Qwen2VLTokenizer
from compressbench.core.registry import register_tokenizer

# Qwen/Qwen3-VL-8B-Instruct (and the 2B/4B/32B/MoE releases) preprocessor_config.json: 256^2 .. 4096^2 pixels.
PRESETS: dict[str, tuple[int, int]] = {"qwen3-vl": (65536, 16777216)}


@dataclass(frozen=True)
class Qwen3VLConfig:
    preset: str | None = field(default="qwen3-vl", metadata={"help": "released pixel budget: qwen3-vl"})
    min_pixels: int | None = field(default=None, metadata={
        "help": "smallest resized area in pixels (default: the preset's, 65536)"})
    max_pixels: int | None = field(default=None, metadata={
        "help": "largest resized area in pixels (default: the preset's, 16777216)"})
    patch_size: int = field(default=16, metadata={"help": "ViT patch side in pixels"})
    merge_size: int = field(default=2, metadata={"help": "patches merged per side into one token"})


@register_tokenizer
class Qwen3VLTokenizer(Qwen2VLTokenizer):
    family = "qwen3vl"
    description = "Qwen3-VL dynamic resolution: smart_resize to multiples of 32, 16-px patches merged 2x2"
    Config = Qwen3VLConfig
    presets = PRESETS
    default_pixels = PRESETS["qwen3-vl"]
