"""What the model's input keeps of an image: input_coverage, input_psnr_db and input_ssim.

Coverage is checked against its definition recomputed here and against transformers' own
processors (which pixels of a coordinate-coded image reach their output); PSNR and SSIM
against scikit-image's peak_signal_noise_ratio and structural_similarity on the same arrays.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from compressbench import get_tokenizer
from compressbench.adapters import _fidelity
from compressbench.adapters._fidelity import fidelity, restore, shape_only
from compressbench.adapters._image import resize
from compressbench.data.image import decode_image, probe_image
from tests.conftest import FIXTURES
from tests.image.hf_oracle import image_processor

skimage_metrics = pytest.importorskip("skimage.metrics")  # the dev extra

IMAGES = FIXTURES / "image"
PHOTOS = ["chelsea.png", "astronaut_portrait_3x4.jpg", "hubble_deep_field_1000.jpg"]
FAMILIES = ["qwen2vl", "qwen3vl", "internvl", "idefics3", "llava-next", "gemma3", "gemma3:pan_and_scan=true", "mllama",
            "pixtral", "vit:vit_base_patch16_224", "vit:vit_large_patch14_clip_336,crop_mode=center"]


def photo(name: str) -> np.ndarray:
    return decode_image((IMAGES / name).read_bytes()).payload


def tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255


def skimage_scores(original: torch.Tensor, restored: torch.Tensor) -> tuple[float, float]:
    """scikit-image's PSNR and SSIM (Wang et al.'s settings) of two (1, 3, H, W) tensors, on RGB 0-255."""
    a = original[0].permute(1, 2, 0).double().numpy() * 255
    b = restored[0].permute(1, 2, 0).double().numpy() * 255
    psnr = skimage_metrics.peak_signal_noise_ratio(a, b, data_range=255)
    ssim = skimage_metrics.structural_similarity(a, b, data_range=255, channel_axis=2, gaussian_weights=True,
                                                 sigma=1.5, use_sample_covariance=False)
    return psnr, ssim


# --- coverage -----------------------------------------------------------------------------------------------

def test_an_image_at_the_models_size_is_kept_whole_and_exactly():
    rng = np.random.default_rng(0)
    for spec, (h, w) in [("vit:vit_large_patch14_clip_336", (336, 336)),
                         ("vit:vit_large_patch14_clip_336,crop_mode=center", (336, 336)), ("qwen2vl", (308, 448)),
                         ("pixtral", (512, 768)), ("internvl", (448, 448))]:
        counts = get_tokenizer(spec, device="cpu").count(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).counts
        assert counts["input_coverage"] == 1.0, spec
        assert counts["input_psnr_db"] == 100.0 and counts["input_ssim"] == pytest.approx(1.0, abs=1e-6), spec


def test_a_panorama_through_a_center_crop_keeps_its_middle():
    """4000 x 300 through CLIP-336 with OpenAI's preprocessing (short side to 336, center crop 336): the short
    side scales by 336/300, the long one becomes 4480 pixels, of which the crop keeps 336."""
    image = np.random.default_rng(1).integers(0, 256, (300, 4000, 3), dtype=np.uint8)
    tok = get_tokenizer("vit:vit_large_patch14_clip_336,crop_mode=center", device="cpu")
    expected = 336 / (4000 * 336 / 300)
    assert expected == pytest.approx(0.075)
    assert tok.count(image).counts["input_coverage"] == pytest.approx(expected, rel=1e-12)
    assert tok.count_for_shape(300, 4000).counts["input_coverage"] == pytest.approx(expected, rel=1e-12)
    # timm's ImageNet-style eval transform: short side to floor(224 / 0.9) = 248, long side truncated, 224 x 224 crop
    base = get_tokenizer("vit:vit_base_patch16_224", device="cpu").count_for_shape(300, 4000)
    assert base.counts["input_coverage"] == pytest.approx((224 / 248) * (224 / int(248 * 4000 / 300)), rel=1e-12)
    # timm's pretrained config squashes CLIP-336's input (crop_mode "squash"): nothing is cut off
    assert get_tokenizer("vit:vit_large_patch14_clip_336", device="cpu").count_for_shape(300, 4000).counts[
        "input_coverage"] == 1.0


def coordinate_images(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Two images whose red and green channels spell 1 + each pixel's column (then row) in base 256; 0 is padding."""
    cols = np.broadcast_to(np.arange(1, w + 1)[None, :], (h, w))
    rows = np.broadcast_to(np.arange(1, h + 1)[:, None], (h, w))
    return tuple(np.stack([code >> 8, code & 255, np.zeros_like(code)], axis=-1).astype(np.uint8)
                 for code in (cols, rows))


def reached(pixel_values: np.ndarray, length: int) -> tuple[int, int]:
    """(first, last) source index among the codes in a processor's output (channels first, or Qwen's patches)."""
    values = np.asarray(pixel_values, dtype=np.float64)
    if values.ndim == 2:  # Qwen's flattened patches: channels first within each patch
        values = values.reshape(values.shape[0], 3, -1)
    else:
        values = values.reshape(-1, 3, values.shape[-2] * values.shape[-1])
    codes = np.rint(values[:, 0]) * 256 + np.rint(values[:, 1])
    codes = codes[(codes >= 1) & (codes <= length)]
    return int(codes.min()) - 1, int(codes.max()) - 1


PLAIN = {"do_rescale": False, "do_normalize": False, "resample": 0}  # raw values, nearest-neighbour resizing


def gemma3_pan_and_scan() -> dict:
    from transformers.models.gemma3.processing_gemma3 import Gemma3Processor

    return {**Gemma3Processor.images_kwargs, "do_pan_and_scan": True}  # as the processor passes them


def processor_output(spec: str, image: np.ndarray) -> np.ndarray:
    """pixel_values of transformers' processor for ``spec`` (the released configuration in fixtures/processors/)."""
    family = spec.split(":")[0]
    if family == "vit":  # OpenAI CLIP-336 (LLaVA-1.5's encoder): shortest edge 336, center crop 336
        ip = image_processor("CLIPImageProcessorPil", None, size={"shortest_edge": 336},
                             crop_size={"height": 336, "width": 336}, **PLAIN)
        return ip(image, return_tensors="np")["pixel_values"]
    name, model, kwargs = {
        "qwen2vl": ("Qwen2VLImageProcessorPil", None, {}),
        "internvl": ("GotOcr2ImageProcessorPil", "internvl3-1b-hf", {"crop_to_patches": True}),
        "idefics3": ("Idefics3ImageProcessorPil", "idefics3-8b-llama3", {}),
        "llava-next": ("LlavaNextImageProcessorPil", "llava-v1.6-mistral-7b-hf", {}),
        "gemma3": ("Gemma3ImageProcessorPil", "gemma-3-4b-it", gemma3_pan_and_scan()),
        "mllama": ("MllamaImageProcessorPil", "llama-3.2-11b-vision-instruct", {}),
        "pixtral": ("PixtralImageProcessorPil", "pixtral-12b", {}),
    }[family]
    return image_processor(name, model, **PLAIN)(image, return_tensors="np", **kwargs)["pixel_values"]


@pytest.mark.parametrize("spec", ["vit:vit_large_patch14_clip_336,crop_mode=center", "qwen2vl", "internvl",
                                  "idefics3", "llava-next", "gemma3:pan_and_scan=true", "mllama", "pixtral"])
def test_coverage_is_what_reaches_the_processors_output(spec):
    """The span of source columns and rows whose pixels reach transformers' processor output, nearest-neighbour
    resizing (one source pixel per output pixel), as a share of the image: the adapter's coverage."""
    tok = get_tokenizer(spec, device="cpu")
    for h, w in [(300, 1000), (700, 300)]:
        by_column, by_row = coordinate_images(h, w)
        first_col, last_col = reached(processor_output(spec, by_column), w)
        first_row, last_row = reached(processor_output(spec, by_row), h)
        seen = (last_col - first_col + 1) / w * (last_row - first_row + 1) / h
        assert tok.count_for_shape(h, w).counts["input_coverage"] == pytest.approx(seen, abs=2 * (1 / h + 1 / w)), \
            (spec, h, w, (first_col, last_col), (first_row, last_row))


def test_count_only_gives_coverage_alone():
    data = (IMAGES / "chelsea.png").read_bytes()
    probed = probe_image(data)
    for spec in FAMILIES:
        tok = get_tokenizer(spec, device="cpu")
        from_header = tok.count_from_meta(probed.meta)
        assert "input_coverage" in from_header.counts, spec
        assert not set(_fidelity.DECODED_ONLY) & set(from_header.counts), spec
        decoded = tok.count(decode_image(data).payload)
        assert shape_only(decoded) == from_header and set(_fidelity.DECODED_ONLY) <= set(decoded.counts), spec


# --- PSNR and SSIM ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PHOTOS)
def test_psnr_and_ssim_equal_scikit_images(name):
    x = tensor(photo(name))
    h, w = x.shape[-2:]
    restored = restore(resize(x, h // 3, w // 3), h, w)
    ours = fidelity(x, restored)[0]
    psnr, ssim = skimage_scores(x, restored)
    assert ours["input_psnr_db"] == pytest.approx(psnr, abs=1e-3)
    assert ours["input_ssim"] == pytest.approx(ssim, abs=2e-4)


def test_ssim_in_strips_is_the_whole_images(monkeypatch):
    """Large images go through SSIM in strips of rows that overlap by the window: the same number."""
    x = tensor(photo("hubble_deep_field_1000.jpg"))[..., :300, :400]
    restored = restore(resize(x, 75, 100), *x.shape[-2:])
    whole = fidelity(x, restored)[0]
    monkeypatch.setattr(_fidelity, "STRIP_PIXELS", 27 * x.shape[-1])  # strips of 27 rows
    strips = fidelity(x, restored)[0]
    assert strips["input_ssim"] == pytest.approx(whole["input_ssim"], abs=1e-6)
    assert strips["input_psnr_db"] == pytest.approx(whole["input_psnr_db"], abs=1e-6)
    whole = whole["input_ssim"]
    assert whole == pytest.approx(skimage_scores(x, restored)[1], abs=2e-4)


@pytest.mark.parametrize("spec", ["qwen2vl", "pixtral"])
def test_the_adapters_values_are_scikit_images_on_its_resized_image(spec):
    tok = get_tokenizer(spec, device="cpu")
    image = photo("chelsea.png")
    x = tensor(image)
    restored = restore(resize(x, *tok.target_size(*image.shape[:2])), *image.shape[:2])
    counts = tok.count(image).counts
    psnr, ssim = skimage_scores(x, restored)
    assert counts["input_psnr_db"] == pytest.approx(psnr, abs=1e-3)
    assert counts["input_ssim"] == pytest.approx(ssim, abs=2e-4)


def test_a_crops_fidelity_is_its_windows():
    """vit with a center crop: the crop's window of the original (edges rounded to whole pixels) against the
    crop resized back, as scikit-image measures it."""
    image = photo("coffee_wide_21x9.webp")
    tok = get_tokenizer("vit:vit_base_patch16_224", device="cpu")
    top, left, bottom, right = (round(v) for v in tok.window(*image.shape[:2]))
    x = tensor(image)
    mean = torch.tensor(tok.data_config["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(tok.data_config["std"]).view(1, 3, 1, 1)
    view = tok.transform(x) * std + mean
    window = x[..., top:bottom, left:right]
    psnr, ssim = skimage_scores(window, restore(view, bottom - top, right - left))
    counts = tok.count(image).counts
    assert counts["input_psnr_db"] == pytest.approx(psnr, abs=1e-3)
    assert counts["input_ssim"] == pytest.approx(ssim, abs=2e-4)


@pytest.mark.parametrize("name", PHOTOS)
def test_a_larger_pixel_budget_never_lowers_psnr(name):
    image = photo(name)
    budgets = [28 * 28 * k for k in (16, 64, 256, 1024, 4096)]
    scores = [get_tokenizer(f"qwen2vl:max_pixels={b}", device="cpu").count(image).counts for b in budgets]
    psnr = [s["input_psnr_db"] for s in scores]
    assert all(a <= b + 1e-9 for a, b in zip(psnr, psnr[1:])), psnr
    assert psnr[0] < psnr[-1]


def test_every_family_reports_fidelity_on_a_real_photo():
    image = photo("astronaut_portrait_3x4.jpg")
    for spec in FAMILIES:
        counts = get_tokenizer(spec, device="cpu").count(image).counts
        assert 0 < counts["input_coverage"] <= 1, spec
        assert 15 < counts["input_psnr_db"] <= 100 and 0 < counts["input_ssim"] <= 1, spec


def test_no_ssim_for_a_region_narrower_than_the_window():
    image = photo("rocket_strip_8x1.jpg")
    counts = get_tokenizer("qwen2vl", device="cpu").count(image[:10, :40]).counts
    assert "input_ssim" not in counts and 0 < counts["input_psnr_db"] <= 100
    psnr = skimage_metrics.peak_signal_noise_ratio(np.zeros((4, 4)), np.full((4, 4), 25.5), data_range=255)
    assert fidelity(torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.1))[0] == {"input_psnr_db": pytest.approx(psnr)}


def test_resize_to_one_pixel_wide_is_right():
    """torch's antialiased bicubic gets the height wrong when the output is one pixel wide; resize avoids it."""
    import torch.nn.functional as F

    x = torch.rand(1, 3, 300, 5)
    for size in [(448, 1), (200, 1)]:
        two_wide = F.interpolate(x[..., :1].expand(1, 3, 300, 2), size=(size[0], 2), mode="bicubic", antialias=True)
        assert torch.allclose(resize(x[..., :1], *size), two_wide[..., :1], atol=1e-6)
    assert math.isclose(fidelity(x[..., :1], restore(resize(x[..., :1], 900, 1), 300, 1))[0]["input_psnr_db"],
                        fidelity(x[..., :2], restore(resize(x[..., :2], 900, 2), 300, 2))[0]["input_psnr_db"],
                        abs_tol=3.0)


@pytest.mark.slow
def test_rows_and_summary_through_the_console_script():
    """Each row carries the three values, the summary their means with units; --no-fidelity keeps the coverage
    alone (--count-only: tests/image/test_image_cli.py)."""
    import json

    from tests.conftest import cli

    runs = {}
    for extra in ([], ["--no-fidelity"]):
        proc = cli("measure", "-t", "qwen2vl", "-t", "vit:vit_base_patch16_224", "--json", "--workers", "1", *extra,
                   str(IMAGES / "chelsea.png"), str(IMAGES / "coffee_wide_21x9.webp"))
        assert proc.returncode == 0, proc.stderr
        runs[tuple(extra)] = json.loads(proc.stdout)
    full = runs[()]
    for summary in full["summary"]:
        rows = [r for r in full["results"] if r["tokenizer"] == summary["tokenizer"]]
        for key in ("input_coverage", "input_psnr_db", "input_ssim"):
            assert summary[key] == pytest.approx(sum(r[key] for r in rows) / len(rows)), key
    assert {"input_coverage", "input_psnr_db", "input_ssim"} <= set(full["units"])
    for row, same in zip(runs[("--no-fidelity",)]["results"], full["results"]):
        assert row["input_coverage"] == same["input_coverage"] and "input_psnr_db" not in row
