"""Image throughput: decoding and tokenizing apart, each beside the bare library call on the same data.

Every fixture image is decoded (Pillow) or tokenized (torch, on CPU and, when a
GPU is present, on CUDA with a warm-up round and synchronisation). extra_info
carries raw MB/s and tokens/s beside the timings:

    .venv/bin/python -m pytest benchmarks/test_image.py --benchmark-only --benchmark-group-by=group
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.conftest import rates
from compressbench import get_tokenizer
from compressbench.adapters._image_geometry import qwen2vl_smart_resize
from compressbench.data.image import decode_image

IMAGES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "image").iterdir())
DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")])]
SPECS = ["qwen2vl", "internvl", "vit:vit_base_patch16_224"]


@pytest.fixture(scope="module")
def files() -> list[bytes]:
    return [p.read_bytes() for p in IMAGES]


@pytest.fixture(scope="module")
def images(files) -> list[np.ndarray]:
    return [decode_image(data).payload for data in files]



def test_decode_bare_pillow(benchmark, files):
    import io

    from PIL import Image, ImageOps

    def decode() -> int:
        total = 0
        for data in files:
            with Image.open(io.BytesIO(data)) as im:
                total += np.asarray(ImageOps.exif_transpose(im).convert("RGB")).size
        return total

    benchmark.group = "decode image"
    raw = benchmark(decode)
    rates(benchmark, raw)


def test_decode_compressbench(benchmark, files):
    benchmark.group = "decode image"
    raw = benchmark(lambda: sum(decode_image(data).raw_bytes for data in files))
    rates(benchmark, raw)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SPECS)
def test_tokenize_compressbench(benchmark, images, spec, device):
    tok = get_tokenizer(spec, device=device)
    benchmark.group = f"tokenize {spec} {device}"
    tokens = benchmark.pedantic(lambda: sum(r.tokens for r in tok.count_batch(images)), rounds=3, warmup_rounds=1)
    rates(benchmark, sum(i.size for i in images), tokens)


@pytest.mark.parametrize("device", DEVICES)
def test_tokenize_bare_qwen2vl_resize(benchmark, images, device):
    """The tensor work alone: upload, bicubic resize to the smart_resize size, synchronise."""
    import torch.nn.functional as F

    def run() -> int:
        total = 0
        with torch.inference_mode():
            for image in images:
                x = torch.from_numpy(image).to(device).permute(2, 0, 1)[None].float() / 255
                h, w = qwen2vl_smart_resize(*image.shape[:2])
                y = F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False, antialias=True)
                total += y.shape[-2] * y.shape[-1] // 28 ** 2
        _sync(device)
        return total

    benchmark.group = f"tokenize qwen2vl {device}"
    tokens = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    rates(benchmark, sum(i.size for i in images), tokens)


@pytest.mark.parametrize("device", DEVICES)
def test_tokenize_bare_vit(benchmark, images, device):
    """timm's eval transform and a bare patch-embedding convolution of vit_base_patch16_224's shape."""
    from timm.data import create_transform

    # vit_base_patch16_224's pretrained config: 224 px, crop_pct 0.9, bicubic, mean/std 0.5
    transform = create_transform(input_size=(3, 224, 224), crop_pct=0.9, interpolation="bicubic",
                                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), is_training=False)
    conv = torch.nn.Conv2d(3, 768, kernel_size=16, stride=16).to(device).eval()

    def run() -> int:
        total = 0
        with torch.inference_mode():
            for image in images:
                x = torch.from_numpy(image).to(device).permute(2, 0, 1)[None].float() / 255
                y = conv(transform(x))
                total += y.shape[-2] * y.shape[-1]
        _sync(device)
        return total

    benchmark.group = f"tokenize vit:vit_base_patch16_224 {device}"
    tokens = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    rates(benchmark, sum(i.size for i in images), tokens)


@pytest.mark.parametrize("device", DEVICES)
def test_tokenize_bare_internvl_tiles(benchmark, images, device):
    """InternVL's tensor work alone: resize to the chosen grid, cut 448-px tiles, add a thumbnail."""
    import torch.nn.functional as F

    from compressbench.adapters._image_geometry import internvl_grid

    def run() -> int:
        total = 0
        with torch.inference_mode():
            for image in images:
                x = torch.from_numpy(image).to(device).permute(2, 0, 1)[None].float() / 255
                cols, rows = internvl_grid(*image.shape[:2])
                y = F.interpolate(x, size=(448 * rows, 448 * cols), mode="bicubic", align_corners=False)
                tiles = y.unfold(2, 448, 448).unfold(3, 448, 448).reshape(3, -1, 448, 448)
                count = tiles.shape[1]
                if count > 1:
                    count += F.interpolate(x, size=(448, 448), mode="bicubic", align_corners=False).shape[0]
                total += 256 * count
        _sync(device)
        return total

    benchmark.group = f"tokenize internvl {device}"
    tokens = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    rates(benchmark, sum(i.size for i in images), tokens)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("fidelity", [False, True], ids=["counts", "counts+fidelity"])
@pytest.mark.parametrize("spec", ["qwen2vl", "vit:vit_base_patch16_224"])
def test_tokenize_with_and_without_fidelity(benchmark, images, spec, device, fidelity):
    """The same adapter with and without input_psnr_db / input_ssim (coverage is free: it comes from the shape).
    The ratio of the two means is the overhead docs/performance.md states."""
    tok = get_tokenizer(spec, device=device)
    tok.measure_fidelity = fidelity

    def run() -> int:
        tokens = sum(r.tokens for r in tok.count_batch(images))
        tok.synchronize()
        return tokens

    benchmark.group = f"fidelity overhead {spec} {device}"
    tokens = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    rates(benchmark, sum(i.size for i in images), tokens)
