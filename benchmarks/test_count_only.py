"""--count-only --hash quick beside the exact mode, on many images: throughput ratio, identical N.

The images are the fixture photos re-encoded as JPEG, PNG and WebP at three widths (81 distinct
files), linked (or copied) cyclically into ``COMPRESSBENCH_BENCH_IMAGES`` files (default 100; 2000
gives the figure in docs/memory.md). Both modes run the suite in this process with one worker and
the ``qwen2vl`` tokenizer: the exact mode reads, hashes and decodes every file and resizes its
pixels; ``--count-only --hash quick`` reads each header, the size and the first and last 64 KiB.
``extra_info["throughput_ratio"]`` is the quick mode's images/s over the exact mode's (goal: 50 or
more); every sample's N must be the same in both.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchmarks.conftest import ROOT
from compressbench.data.suite import parse_suite
from compressbench.runner import RunOptions, run_suite

IMAGES = int(os.environ.get("COMPRESSBENCH_BENCH_IMAGES", "100"))
WIDTHS = (480, 1024, 1920)
FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}


def _variants(folder: Path) -> list[Path]:
    from PIL import Image

    made = []
    for photo in sorted((ROOT / "fixtures" / "image").iterdir()):
        with Image.open(photo) as im:
            rgb = im.convert("RGB")
        for width in WIDTHS:
            height = max(1, round(rgb.height * width / rgb.width))
            resized = rgb.resize((width, height))
            for ext, fmt in FORMATS.items():
                path = folder / f"{photo.stem}_{width}.{ext}"
                resized.save(path, format=fmt)
                made.append(path)
    return made


def _corpus(root: Path, count: int) -> Path:
    (root / "variants").mkdir()
    variants = _variants(root / "variants")
    images = root / "images"
    images.mkdir()
    for i in range(count):
        source = variants[i % len(variants)]
        target = images / f"{i:05d}{source.suffix}"
        try:
            os.link(source, target)
        except OSError:
            target.write_bytes(source.read_bytes())
    return images


def _run(images: Path, options: RunOptions) -> tuple[dict[str, int], float]:
    suite = parse_suite({"tokenizers": ["qwen2vl"], "datasets": [
        {"name": "images", "modality": "image", "paths": [str(images)]}]}, source="bench", base=images)
    rows: list[dict] = []
    start = time.perf_counter()
    run_suite(suite, device="cpu", emit=rows.append, options=options)
    seconds = time.perf_counter() - start
    assert not [r["error"] for r in rows if r["error"]]
    return {r["sample"]: r["tokens"] for r in rows}, seconds


def test_count_only_quick_vs_exact(benchmark, tmp_path):
    images = _corpus(tmp_path, IMAGES)
    result = {}

    def both() -> None:
        result["exact"] = _run(images, RunOptions(workers=1))
        result["quick"] = _run(images, RunOptions(workers=1, count_only=True, hash="quick"))

    benchmark.group = "count-only"
    benchmark.pedantic(both, rounds=1, iterations=1)
    (exact, exact_s), (quick, quick_s) = result["exact"], result["quick"]
    assert quick == exact and len(exact) == IMAGES
    benchmark.extra_info.update({"images": IMAGES, "exact_images_per_s": round(IMAGES / exact_s, 1),
                                 "quick_images_per_s": round(IMAGES / quick_s, 1),
                                 "throughput_ratio": round(exact_s / quick_s, 1)})
    print(f"\ncount-only --hash quick vs exact: {benchmark.extra_info}")
