"""Image token counts against the real models' published definitions, on CPU and (when present) CUDA.

The reference functions below are written from the models' own code and papers,
independently of compressbench's adapters: Qwen2-VL's ``smart_resize``
(transformers' Qwen2VLImageProcessor), InternVL's ``dynamic_preprocess`` and
``find_closest_aspect_ratio`` (its model cards' ``load_image``), and each ViT's
published input size, patch size and class/register tokens.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from compressbench import get_tokenizer
from compressbench.adapters._fidelity import shape_only
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.registry import list_families
from compressbench.data.image import decode_image, probe_image
from tests.conftest import FIXTURES
from tests.image.hf_oracle import ORACLES, oracle

DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")])]

# Each family's independent reference and the specs it is tested with, side by side below:
# family -> (reference(height, width, **config options) -> expected dict, or None when the model refuses; specs).
# The tests are parametrised over the registry: a family registered without an entry here fails them.
CASES: dict[str, tuple[Callable[..., dict | None], list[str]]] = {}

# Published geometry: (input side, patch side, prefix tokens). Patch tokens = (side // patch) ** 2.
VIT_PUBLISHED = {
    "vit_base_patch16_224": (224, 16, 1),  # ViT-B/16 (Dosovitskiy et al. 2021): 14 x 14 + [CLS]
    "vit_large_patch14_clip_336": (336, 14, 1),  # LLaVA-1.5's CLIP ViT-L/14-336: 24 x 24 = 576
    "vit_base_patch14_reg4_dinov2": (518, 14, 5),  # DINOv2 with registers: [CLS] + 4 registers
    "vit_so400m_patch14_siglip_384": (384, 14, 0),  # SigLIP: no class token; 27 x 27 (conv floors 384/14)
}


def ref_vit(height: int, width: int, *, model: str, img_size: int | None = None,
            crop_mode: str | None = None) -> dict:
    side, patch, prefix = VIT_PUBLISHED[model]
    side = img_size or side
    n = (side // patch) ** 2
    return {"tokens": n, "input_bytes": side * side * 3, "prefix_tokens": prefix, "prompt_tokens": n}


CASES["vit"] = (ref_vit, ["vit:vit_base_patch16_224", "vit:vit_large_patch14_clip_336"])

QWEN_RELEASED = {None: (56 * 56, 28 * 28 * 1280), "qwen2-vl": (3136, 12845056), "qwen2.5-vl": (3136, 12845056),
                 "qwen3-vl": (65536, 16777216)}  # preprocessor_config.json of the Qwen checkpoints


def ref_qwen2vl(height: int, width: int, *, preset: str | None = None, min_pixels: int | None = None,
                max_pixels: int | None = None, patch_size: int = 14, merge_size: int = 2, **_: object) -> dict | None:
    """transformers Qwen2VLImageProcessor: smart_resize, grid of 14-px patches, 2 x 2 merge; None = refused."""
    min_pixels = min_pixels or QWEN_RELEASED[preset][0]
    max_pixels = max_pixels or QWEN_RELEASED[preset][1]
    factor = patch_size * merge_size
    if max(height, width) / min(height, width) > 200:
        return None
    h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    grid_h, grid_w = h_bar // patch_size, w_bar // patch_size
    n = grid_h * grid_w // merge_size ** 2
    return {"tokens": n, "input_bytes": h_bar * w_bar * 3, "prompt_tokens": n + 2}


CASES["qwen2vl"] = (ref_qwen2vl, ["qwen2vl", "qwen2vl:min_pixels=200704", "qwen2vl:max_pixels=50176",
                                  "qwen2vl:preset=qwen2.5-vl"])


def ref_internvl(height: int, width: int, *, image_size: int = 448, min_num: int = 1, max_num: int = 12,
                 use_thumbnail: bool = True, tokens_per_tile: int = 256) -> dict:
    """InternVL's dynamic_preprocess: closest-aspect-ratio grid, thumbnail when more than one tile."""
    aspect_ratio = width / height
    target_ratios = set((i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1)
                        for j in range(1, n + 1) if i * j <= max_num and i * j >= min_num)
    target_ratios = sorted(target_ratios, key=lambda x: x[0] * x[1])
    best_ratio_diff, best_ratio = float("inf"), (1, 1)
    for ratio in target_ratios:
        ratio_diff = abs(aspect_ratio - ratio[0] / ratio[1])
        if ratio_diff < best_ratio_diff:
            best_ratio_diff, best_ratio = ratio_diff, ratio
        elif ratio_diff == best_ratio_diff and width * height > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
            best_ratio = ratio
    blocks = best_ratio[0] * best_ratio[1]
    tiles = blocks + 1 if use_thumbnail and blocks != 1 else blocks
    n = tiles * tokens_per_tile
    return {"tokens": n, "input_bytes": tiles * image_size * image_size * 3, "tiles": tiles, "prompt_tokens": n + 2}


CASES["internvl"] = (ref_internvl, ["internvl", "internvl:max_num=6,use_thumbnail=false",
                                    "internvl:min_num=2,max_num=4,tokens_per_tile=64"])


def reference(tok, height: int, width: int) -> dict | None:
    if tok.family not in CASES:
        pytest.fail(f"image family {tok.family!r} has no independent reference: add one to CASES in {__name__}")
    if CASES[tok.family][0] is oracle:  # the newer families: transformers' processors (tests/image/hf_oracle.py)
        return oracle(tok.name)(height, width)
    options = {f: getattr(tok.config, f) for f in tok.config.__dataclass_fields__}
    return CASES[tok.family][0](height, width, **options)


# The newer families are held to transformers' own processors (tests/image/hf_oracle.py); their presets
# beyond the first (SmolVLM) are covered there only, to keep this file's decoded-path tests short.
for _spec in ORACLES:
    _family = _spec.split(":")[0]
    if _family not in CASES:
        CASES[_family] = (oracle, [])
    if CASES[_family][0] is oracle and "smolvlm" not in _spec:
        CASES[_family][1].append(_spec)
# hfproc runs whatever processor it is given: tests/image/test_hfproc.py checks it against llava-next.
IMAGE_FAMILIES = sorted(f for f, e in list_families().items() if e.cls.modality == "image" and f != "hfproc")
# Every registered family's specs; a family without a case is tested under its bare name (and fails).
SPECS = [spec for family in IMAGE_FAMILIES for spec in (CASES[family][1] if family in CASES else [family])]
SYNTHETIC_SPECS = SPECS + ["vit:vit_base_patch14_reg4_dinov2", "vit:vit_so400m_patch14_siglip_384"]
SHAPES = [(1, 4000), (4000, 7), (10, 10), (1, 1), (333, 517), (517, 333), (29, 5000), (2000, 3000), (448, 896)]


@pytest.fixture(scope="module")
def fixture_images():
    return {p.name: decode_image(p.read_bytes()).payload for p in sorted((FIXTURES / "image").iterdir())}


@pytest.mark.parametrize("family", IMAGE_FAMILIES)
def test_every_image_family_has_an_independent_reference(family):
    assert family in CASES, f"image family {family!r} has no independent reference: add one to CASES in {__name__}"
    assert CASES[family][1] and all(s.split(":")[0] == family for s in CASES[family][1])


def test_the_registry_holds_the_families_this_file_knows():
    assert {"internvl", "qwen2vl", "vit", "gemma3", "idefics3", "llava-next", "mllama", "pixtral",
            "qwen3vl"} <= set(IMAGE_FAMILIES)  # the built-ins, whatever plugins add


def check(tok, result, height: int, width: int) -> None:
    ref = reference(tok, height, width)
    assert ref is not None, f"{tok.name} measured {height}x{width}, which the model refuses"
    assert result.tokens == ref["tokens"], (tok.name, height, width)
    assert result.input_bytes == ref["input_bytes"], (tok.name, height, width)
    for key in ("prefix_tokens", "tiles", "prompt_tokens"):
        assert result.counts.get(key) == ref.get(key)
    assert tok.tokens_for_shape(height, width) == result.tokens  # count-only mode gives the measured N
    assert tok.count_for_shape(height, width) == shape_only(result)  # input bytes and extra counts too


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SPECS)
def test_fixtures_match_the_published_definitions(spec, device, tokenizer, fixture_images):
    tok = tokenizer(spec, device)
    names = list(fixture_images)
    results = tok.count_batch([fixture_images[n] for n in names])  # batched by shape on the device
    for name, result in zip(names, results):
        assert not isinstance(result, SampleError), (name, result)
        check(tok, result, *fixture_images[name].shape[:2])


@pytest.mark.parametrize("spec", SPECS)
def test_count_only_from_headers_gives_the_measured_n(spec, tokenizer, fixture_images):
    """The count from the probed header alone (no pixel decoded) equals the count measured on the pixels."""
    tok = tokenizer(spec, "cpu")
    for name, image in fixture_images.items():
        probed = probe_image((FIXTURES / "image" / name).read_bytes())
        assert tok.count_from_meta(probed.meta) == shape_only(tok.count(image)), name


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SYNTHETIC_SPECS)
def test_synthetic_shapes(spec, device, tokenizer):
    tok = tokenizer(spec, device)
    rng = np.random.default_rng(0)
    for height, width in SHAPES:
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        if reference(tok, height, width) is None:  # refused: the same one-line reason both ways
            with pytest.raises(SampleError, match="over Qwen2-VL's limit of 200|too thin") as decoded:
                tok.count(image)
            with pytest.raises(SampleError) as counted:
                tok.tokens_for_shape(height, width)
            assert str(decoded.value) == str(counted.value)
        else:
            check(tok, tok.count(image), height, width)


def test_llava_and_vit_reference_counts(tokenizer):
    """Published: LLaVA-1.5's CLIP ViT-L/14 at 336 px gives 24 x 24 = 576 tokens; ViT-B/16 at 224 gives 196."""
    assert tokenizer("vit:vit_large_patch14_clip_336", "cpu").tokens_for_shape(300, 451) == 576
    assert tokenizer("vit:vit_base_patch16_224", "cpu").tokens_for_shape(300, 451) == 196


def test_a_batch_of_mixed_shapes_and_bad_payloads_keeps_its_order(tokenizer):
    tok = tokenizer("qwen2vl", "cpu")
    a, b = np.zeros((300, 451, 3), np.uint8), np.zeros((56, 56, 3), np.uint8)
    strip = np.zeros((1, 400, 3), np.uint8)  # aspect ratio 400: refused
    results = tok.count_batch([a, "text", b, strip, a, np.zeros((5, 5), np.uint8)])
    assert [r.tokens if not isinstance(r, SampleError) else None for r in results] == [176, None, 4, None, 176, None]
    assert "got str" in str(results[1]) and "aspect ratio" in str(results[3]) and "(5, 5)" in str(results[5])


def test_vit_identity_reports_the_encoder(tokenizer):
    tok = tokenizer("vit:vit_large_patch14_clip_336", "cpu")
    ident = tok.identity()
    assert ident["spec"] == "vit:vit_large_patch14_clip_336"
    assert 300e6 < ident["encoder_params"] < 310e6  # CLIP ViT-L/14 vision tower, head excluded
    assert ident["patch_tokens"] == 576 and ident["prefix_tokens"] == 1 and ident["input_size"] == [3, 336, 336]


def test_vit_img_size_option_follows_the_patch_grid(tokenizer):
    tok = tokenizer("vit:vit_base_patch16_224,img_size=384", "cpu")
    assert tok.count(np.zeros((100, 150, 3), np.uint8)).tokens == 24 * 24 == tok.tokens_for_shape(1, 1)


@pytest.mark.parametrize("spec, message", [
    ("vit:vit_base_patch16_24", "unknown timm model 'vit_base_patch16_24'; did you mean: vit_base_patch16_224"),
    ("vit:resnet18", "has no patch_embed: not a ViT-family model"),
    ("qwen2vl:min_pixels=5000,max_pixels=4000", "min_pixels \\(5000\\) is larger than max_pixels"),
    ("qwen2vl:patch_size=0", "patch_size must be a positive integer"),
    ("internvl:min_num=5,max_num=4", "min_num \\(5\\) is larger than max_num"),
    ("internvl:image_size=abc", "expected int"),
    ("qwen2vl:preset=qwen9", "unknown preset 'qwen9'; choose one of qwen2-vl, qwen2.5-vl"),
    ("qwen3vl:min_pixels=0", "min_pixels must be a positive integer"),
    ("llava-next:grid_pinpoints=336x67", "not multiples of image_size 336"),
    ("llava-next:grid_pinpoints=336by672", "expected HEIGHTxWIDTH"),
    ("idefics3:preset=smolvlm2", "choose one of idefics3, smolvlm, smolvlm-256m"),
    ("idefics3:tile_size=0", "tile_size must be a positive integer"),
    ("gemma3:min_ratio=0.5", "min_ratio must be at least 1"),
    ("pixtral:patch_size=0", "patch_size must be a positive integer"),
    ("mllama:max_tiles=0", "max_tiles must be a positive integer"),
])
def test_bad_options_are_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        get_tokenizer(spec, device="cpu")


def test_count_from_meta_without_a_shape_is_a_sample_error(tokenizer):
    with pytest.raises(SampleError, match="no image height and width"):
        tokenizer("qwen2vl", "cpu").count_from_meta({"duration": 3.0})


def test_qwen_presets_name_the_released_pixel_budgets(tokenizer):
    """A preset is a name for the released budget: it counts, and is identified, like the explicit options."""
    preset = tokenizer("qwen2vl:preset=qwen2-vl", "cpu")
    explicit = tokenizer("qwen2vl:min_pixels=3136,max_pixels=12845056", "cpu")
    assert preset.fingerprint() == explicit.fingerprint() != tokenizer("qwen2vl", "cpu").fingerprint()
    assert preset.count_for_shape(3000, 4000) == explicit.count_for_shape(3000, 4000)
    assert tokenizer("qwen2vl:preset=qwen2.5-vl,max_pixels=50176", "cpu").tokens_for_shape(3000, 4000) == \
        tokenizer("qwen2vl:max_pixels=50176", "cpu").tokens_for_shape(3000, 4000)  # an option beats the preset
