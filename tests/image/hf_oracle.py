"""The test oracle: Hugging Face transformers' own image processors and processors, for each image family.

Image processors are built from the released configurations in
``fixtures/processors/`` (no weights, no tokenizer, no network); the placeholder
expansion comes from each processor class's own ``replace_image_token`` (or its
count helper), called on a bare processor that holds only the attributes those
methods read, so no tokenizer is needed. The expanded prompt string is then
counted: one position per special token, one per run of newlines (a newline run
is one token in these models' vocabularies), other text not at all.

Each oracle maps (height, width) to the counts the processor implies, or None
when the processor refuses the image.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

PROCESSORS = Path(__file__).resolve().parents[2] / "fixtures" / "processors"
SPECIAL = re.compile(r"<\|[a-z_]+\|>|<[a-z_]+(?:_of_image)?>|<row_\d+_col_\d+>|<global-img>|<fake_token_around_image>"
                     r"|<IMG_CONTEXT>|</?img>|\[IMG(?:_BREAK|_END)?\]|\n+")


def load(model: str, name: str = "preprocessor_config.json") -> dict[str, Any]:
    return json.loads((PROCESSORS / model / name).read_text())


def prompt_positions(text: str) -> int:
    """Positions a processor's expansion takes: special tokens and newline runs, one each."""
    return len(SPECIAL.findall(text))


def bare(cls: type, **attrs: Any) -> Any:
    """A processor instance without a tokenizer, holding only what its counting methods read."""
    obj = object.__new__(cls)
    obj.__dict__.update(attrs)
    return obj


def image_processor(cls_name: str, model: str | None, **overrides: Any) -> Any:
    transformers = pytest.importorskip("transformers")  # a test-only dependency (the dev extra)
    cls = getattr(transformers, cls_name)
    config = load(model) if model else {}
    config = {k: v for k, v in config.items() if k not in ("image_processor_type", "processor_class") and v is not None}
    return cls.from_dict({**config, **overrides})


def qwen(model: str | None) -> Callable[[int, int], dict | None]:
    from transformers.models.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor

    ip = image_processor("Qwen2VLImageProcessorPil", model)
    proc = bare(Qwen2VLProcessor, image_processor=ip, image_token="<|image_pad|>")

    def oracle(h: int, w: int) -> dict | None:
        try:
            patches = ip.get_number_of_image_patches(h, w, {})
        except ValueError:  # smart_resize refuses aspect ratios over 200
            return None
        n = patches // ip.merge_size ** 2
        text = proc.replace_image_token({"image_grid_thw": [np.array([1, patches])]}, 0)
        # The chat template writes <|vision_start|><|image_pad|><|vision_end|>; the processor expands the middle.
        return {"tokens": n, "prompt_tokens": prompt_positions(f"<|vision_start|>{text}<|vision_end|>"),
                "input_bytes": patches * ip.patch_size ** 2 * 3}

    return oracle


def internvl() -> Callable[[int, int], dict | None]:
    from transformers.models.internvl.processing_internvl import InternVLProcessor

    ip = image_processor("GotOcr2ImageProcessorPil", "internvl3-1b-hf")
    seq = load("internvl3-1b-hf", "processor_config.json")["image_seq_length"]
    proc = bare(InternVLProcessor, image_processor=ip, image_seq_length=seq, image_token="<IMG_CONTEXT>",
                start_image_token="<img>", end_image_token="</img>")
    kwargs = InternVLProcessor.images_kwargs  # crop_to_patches=True, as the processor passes it

    def oracle(h: int, w: int) -> dict:
        tiles = ip.get_number_of_image_patches(h, w, dict(kwargs))
        text = proc.replace_image_token({"num_patches": [tiles]}, 0)
        return {"tokens": tiles * seq, "prompt_tokens": prompt_positions(text), "tiles": tiles,
                "input_bytes": tiles * 448 * 448 * 3}

    return oracle


def gemma3(pan_and_scan: bool) -> Callable[[int, int], dict]:
    from transformers.models.gemma3.processing_gemma3 import Gemma3Processor

    ip = image_processor("Gemma3ImageProcessorPil", "gemma-3-4b-it")
    seq = load("gemma-3-4b-it", "processor_config.json")["image_seq_length"]
    full = f"\n\n<start_of_image>{'<image_soft_token>' * seq}<end_of_image>\n\n"  # Gemma3Processor.__init__
    proc = bare(Gemma3Processor, full_image_sequence=full)
    defaults = Gemma3Processor.images_kwargs

    def oracle(h: int, w: int) -> dict:
        crops = 0
        if pan_and_scan:  # the processor's own crop rule, on a pixel-free view of the right shape
            view = np.broadcast_to(np.zeros(1, np.uint8), (3, h, w))
            crops = len(ip.pan_and_scan(
                view, pan_and_scan_min_crop_size=defaults["pan_and_scan_min_crop_size"],
                pan_and_scan_max_num_crops=defaults["pan_and_scan_max_num_crops"],
                pan_and_scan_min_ratio_to_activate=defaults["pan_and_scan_min_ratio_to_activate"]))
        text = proc.replace_image_token({"num_crops": [crops]}, 0)
        tiles = 1 + crops
        return {"tokens": tiles * seq, "prompt_tokens": prompt_positions(text), "tiles": tiles,
                "input_bytes": tiles * 896 * 896 * 3}

    return oracle


def llava_next(model: str) -> Callable[[int, int], dict]:
    from transformers.image_processing_utils import select_best_resolution

    onevision = "onevision" in model
    if onevision:
        from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor as P
        ip = image_processor("LlavaOnevisionImageProcessorPil", model)
    else:
        from transformers.models.llava_next.processing_llava_next import LlavaNextProcessor as P
        ip = image_processor("LlavaNextImageProcessorPil", model)
    settings = load(model, "processor_config.json")
    proc = bare(P, image_processor=ip, image_token="<image>", **{k: v for k, v in settings.items()
                                                                    if k not in ("processor_class", "image_token")})
    size = ip.size["height"] if onevision else ip.size["shortest_edge"]

    def oracle(h: int, w: int) -> dict:
        n = proc._get_number_of_features(h, w, size, size)
        if settings["vision_feature_select_strategy"] == "default":
            n -= 1  # as _get_num_multimodal_tokens and replace_image_token do
        bh, bw = select_best_resolution((h, w), ip.image_grid_pinpoints)
        tiles = 1 + (bh // size) * (bw // size)
        return {"tokens": n, "prompt_tokens": n, "tiles": tiles, "input_bytes": tiles * size * size * 3}

    return oracle


def idefics3(model: str) -> Callable[[int, int], dict]:
    from transformers.models.idefics3.processing_idefics3 import Idefics3Processor

    ip = image_processor("Idefics3ImageProcessorPil", model)
    seq = load(model, "processor_config.json")["image_seq_len"]
    proc = bare(Idefics3Processor, image_seq_len=seq, image_token="<image>", fake_image_token="<fake_token_around_image>",
                global_image_tag="<global-img>")
    side = ip.max_image_size["longest_edge"]

    def oracle(h: int, w: int) -> dict:
        patches, rows, cols = ip.get_number_of_image_patches(h, w, {})
        text = proc.replace_image_token({"rows": [[rows]], "cols": [[cols]]}, 0)
        tiles = max(patches, 1)
        return {"tokens": tiles * seq, "prompt_tokens": prompt_positions(text), "tiles": tiles,
                "input_bytes": tiles * side * side * 3}

    return oracle


def pixtral() -> Callable[[int, int], dict | None]:
    from transformers.models.pixtral.image_processing_pil_pixtral import get_resize_output_image_size
    from transformers.models.pixtral.processing_pixtral import PixtralProcessor

    ip = image_processor("PixtralImageProcessorPil", "pixtral-12b")
    settings = load("pixtral-12b", "processor_config.json")
    proc = bare(PixtralProcessor, patch_size=settings["patch_size"], spatial_merge_size=settings["spatial_merge_size"],
                image_token="[IMG]", image_break_token="[IMG_BREAK]", image_end_token="[IMG_END]")
    unit = settings["patch_size"] * settings["spatial_merge_size"]

    def oracle(h: int, w: int) -> dict | None:
        rh, rw = get_resize_output_image_size(SimpleNamespace(shape=(h, w, 3)), size=ip.size["longest_edge"],
                                              patch_size=(unit, unit), input_data_format="channels_last")
        if rh == 0 or rw == 0:  # scaled to zero pixels: the processor cannot resize it
            return None
        text = proc.replace_image_token({"image_sizes": [(rh, rw)]}, 0)
        return {"tokens": (rh // unit) * (rw // unit), "prompt_tokens": prompt_positions(text),
                "input_bytes": rh * rw * 3}

    return oracle


def mllama() -> Callable[[int, int], dict]:
    from transformers.models.mllama.image_processing_pil_mllama import get_optimal_tiled_canvas

    ip = image_processor("MllamaImageProcessorPil", "llama-3.2-11b-vision-instruct")
    vision = load("llama-3.2-11b-vision-instruct", "config_vision.json")["vision_config"]
    tile = ip.size["height"]
    per_tile = (vision["image_size"] // vision["patch_size"]) ** 2 + 1  # the vision model's patches + class token

    def oracle(h: int, w: int) -> dict:
        ch, cw = get_optimal_tiled_canvas(h, w, ip.max_image_tiles, tile)
        tiles = int(ch // tile) * int(cw // tile)
        # MllamaProcessor.replace_image_token returns the <|image|> token itself: one prompt position.
        return {"tokens": tiles * per_tile, "prompt_tokens": 1, "tiles": tiles, "input_bytes": tiles * tile * tile * 3}

    return oracle


# compressbench spec -> how to build its oracle (the released checkpoint's configuration)
ORACLES: dict[str, Callable[[], Callable[[int, int], dict | None]]] = {
    "qwen2vl": lambda: qwen(None),  # transformers' Qwen2VLImageProcessor defaults
    "qwen2vl:preset=qwen2-vl": lambda: qwen("qwen2-vl-7b-instruct"),
    "qwen2vl:preset=qwen2.5-vl": lambda: qwen("qwen2.5-vl-7b-instruct"),
    "qwen3vl": lambda: qwen("qwen3-vl-8b-instruct"),
    "internvl": internvl,
    "gemma3": lambda: gemma3(False),
    "gemma3:pan_and_scan=true": lambda: gemma3(True),
    "llava-next": lambda: llava_next("llava-v1.6-mistral-7b-hf"),
    "llava-next:preset=llava-onevision": lambda: llava_next("llava-onevision-qwen2-7b-ov-hf"),
    "idefics3": lambda: idefics3("idefics3-8b-llama3"),
    "idefics3:preset=smolvlm": lambda: idefics3("smolvlm-instruct"),
    "idefics3:preset=smolvlm-256m": lambda: idefics3("smolvlm-256m-instruct"),
    "pixtral": pixtral,
    "mllama": mllama,
}


@functools.cache
def _built(spec: str) -> Callable[[int, int], dict | None]:
    return ORACLES[spec]()


def oracle(spec: str) -> Callable[[int, int], dict | None]:
    """The oracle of a spec; the test skips when transformers is not installed."""
    pytest.importorskip("transformers")
    return _built(spec)
