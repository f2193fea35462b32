"""Every image family against Hugging Face transformers' own processors, over extreme, tiny, huge and edge sizes.

The counts (N, prompt_tokens, tiles, input bytes) come from :mod:`tests.image.hf_oracle`:
the processors built from the released configurations in ``fixtures/processors/``.
The shape sweep uses the processors' count helpers (cheap at any size); a few small
sizes also go through the full image processor, pixels and all, and the grid it
outputs must match the adapter's count on the decoded image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compressbench import get_tokenizer
from compressbench.core.errors import SampleError
from compressbench.core.registry import list_families
from tests.image.hf_oracle import ORACLES, image_processor, load, oracle

# Tile, patch and canvas sides of the families, each exactly, one pixel under and one over.
EDGES = (14, 16, 28, 32, 336, 364, 384, 448, 512, 560, 672, 896, 1008, 1456, 1536, 2048)
SIZES = sorted({
    (1, 1), (1, 2), (2, 1), (27, 29), (29, 27), (1, 2000), (2000, 1), (5000, 50), (50, 5000), (1, 5000),
    (8000, 6000), (6000, 8000), (448, 448), (768, 1024), (1080, 1920), (300, 4000), (4000, 300), (333, 517),
    (517, 333), (10, 2000), (2000, 10), (3000, 3000), (4096, 4097), (7, 4000), (4000, 7),
    *((e, e) for e in EDGES), *((e - 1, e) for e in EDGES), *((e, e + 1) for e in EDGES),
    *((e + 1, 2 * e - 1) for e in EDGES), *((3 * e, e) for e in EDGES),
})


def test_the_sweep_is_wide_enough():
    assert len(SIZES) >= 50
    assert {(1, 1), (27, 29), (1, 2000), (5000, 50), (8000, 6000)} <= set(SIZES)


def test_every_image_family_has_an_oracle():
    # vit: published geometry in test_image_counts.py; hfproc: a processor itself (test_hfproc.py)
    families = {f for f, e in list_families().items() if e.cls.modality == "image"} - {"vit", "hfproc"}
    assert families == {spec.split(":")[0] for spec in ORACLES}


def expected(spec: str, height: int, width: int) -> dict | None:
    return oracle(spec)(height, width)


def measured(tok, height: int, width: int) -> dict | None:
    try:
        result = tok.count_for_shape(height, width)
    except SampleError:
        return None
    out = {"tokens": result.tokens, "prompt_tokens": result.counts["prompt_tokens"], "input_bytes": result.input_bytes}
    if "tiles" in result.counts:
        out["tiles"] = result.counts["tiles"]
    return out


@pytest.mark.parametrize("spec", list(ORACLES))
def test_counts_equal_the_processors_on_every_size(spec):
    tok = get_tokenizer(spec, device="cpu")
    pairs = [(h, w, measured(tok, h, w), expected(spec, h, w)) for h, w in SIZES]
    wrong = [p for p in pairs if p[2] != p[3]]
    assert not wrong, f"{spec}: {len(wrong)} of {len(SIZES)} sizes differ, e.g. {wrong[:3]}"


def full_run(spec: str, image: np.ndarray) -> dict:
    """What the processor's full preprocessing outputs for one image: its grid, tiles or crops."""
    h, w = image.shape[:2]
    family = spec.split(":")[0]
    if family in ("qwen2vl", "qwen3vl"):
        model = {"qwen2vl": None, "qwen3vl": "qwen3-vl-8b-instruct"}[family]
        if "preset" in spec:
            model = "qwen2-vl-7b-instruct" if "qwen2-vl" in spec else "qwen2.5-vl-7b-instruct"
        ip = image_processor("Qwen2VLImageProcessorPil", model)
        t, gh, gw = (int(v) for v in ip(image, return_tensors="np")["image_grid_thw"][0])
        return {"tokens": t * gh * gw // ip.merge_size ** 2}
    if family == "internvl":
        out = image_processor("GotOcr2ImageProcessorPil", "internvl3-1b-hf")(image, crop_to_patches=True,
                                                                             return_tensors="np")
        return {"tiles": int(out["num_patches"][0])}
    if family == "gemma3":
        from transformers.models.gemma3.processing_gemma3 import Gemma3Processor

        kwargs = {**Gemma3Processor.images_kwargs, "do_pan_and_scan": "pan_and_scan" in spec}  # as the processor passes
        out = image_processor("Gemma3ImageProcessorPil", "gemma-3-4b-it")(image, return_tensors="np", **kwargs)
        return {"tiles": int(out["num_crops"][0]) + 1}
    if family == "llava-next":
        model = "llava-onevision-qwen2-7b-ov-hf" if "onevision" in spec else "llava-v1.6-mistral-7b-hf"
        cls = "LlavaOnevisionImageProcessorPil" if "onevision" in spec else "LlavaNextImageProcessorPil"
        return {"tiles": int(image_processor(cls, model)(image, return_tensors="np")["pixel_values"].shape[1])}
    if family == "idefics3":
        model = {"idefics3": "idefics3-8b-llama3", "smolvlm": "smolvlm-instruct",
                 "smolvlm-256m": "smolvlm-256m-instruct"}[spec.partition("preset=")[2] or "idefics3"]
        out = image_processor("Idefics3ImageProcessorPil", model)(image, return_row_col_info=True, return_tensors="np")
        return {"tiles": int(out["pixel_values"].shape[1])} if out["rows"][0][0] else {"tiles": 1}
    if family == "pixtral":
        out = image_processor("PixtralImageProcessorPil", "pixtral-12b")(image, return_tensors="np")
        rh, rw = (int(v) for v in out["image_sizes"][0])
        unit = load("pixtral-12b", "processor_config.json")["patch_size"]
        return {"tokens": (rh // unit) * (rw // unit)}
    if family == "mllama":
        out = image_processor("MllamaImageProcessorPil", "llama-3.2-11b-vision-instruct")(image, return_tensors="np")
        return {"tiles": int(out["num_tiles"][0][0])}
    raise AssertionError(f"no full run for {spec}")


FULL_SIZES = [(27, 29), (300, 1000), (1000, 300), (560, 1121)]


@pytest.mark.parametrize("spec", list(ORACLES))
def test_decoded_counts_equal_the_processors_full_preprocessing(spec):
    """Pixels through the real image processor, and through the adapter's decoded path, at a few sizes."""
    tok = get_tokenizer(spec, device="cpu")
    rng = np.random.default_rng(0)
    for h, w in FULL_SIZES:
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        ours = tok.count(image)
        for key, value in full_run(spec, image).items():
            got = ours.tokens if key == "tokens" else ours.counts[key]
            assert got == value, (spec, h, w, key)


def load_table_script():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "vlm_token_table.py"
    spec = importlib.util.spec_from_file_location("vlm_token_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_is_the_scripts_and_agrees_with_the_processors():
    script = load_table_script()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = script.table()
    assert script.replace_in(readme, table) == readme, "README's table is stale: run scripts/vlm_token_table.py --write"
    for spec, _ in script.MODELS:
        for width, height in script.SIZES:
            assert (height, width) in SIZES  # the sweep above covers each cell
            if spec.startswith("vit:"):  # LLaVA-1.5: CLIP ViT-L/14 at 336 px, 24 x 24 patches, no special tokens
                want = {"tokens": 576, "prompt_tokens": 576}
            else:
                want = {k: expected(spec, height, width)[k] for k in ("tokens", "prompt_tokens")}
            assert script.cell(spec, width, height) == f"{want['tokens']:,} / {want['prompt_tokens']:,}"


@pytest.mark.parametrize("spec", list(ORACLES))
def test_counts_equal_the_processors_on_random_sizes(spec):
    """Beyond the chosen sizes: 300 random ones, log-uniform from 1 to 9000 pixels a side (seeded)."""
    tok = get_tokenizer(spec, device="cpu")
    rng = np.random.default_rng(12)
    sides = np.exp(rng.uniform(0, np.log(9000), size=(300, 2))).astype(int)
    wrong = [(h, w) for h, w in sides.tolist() if measured(tok, h, w) != expected(spec, h, w)]
    assert not wrong, f"{spec}: {len(wrong)} of 300 random sizes differ, e.g. {wrong[:5]}"
