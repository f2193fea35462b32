"""Images through the real console script, and what building a ViT-g holds in memory."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, cli

IMAGES = FIXTURES / "image"


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.fixture
def mixed_images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(IMAGES / "chelsea.png", folder / "chelsea.png")
    shutil.copy(IMAGES / "retina_rgba.png", folder / "png_named.jpg")  # a PNG named .jpg: decoded by content
    jpeg = (IMAGES / "astronaut_portrait_3x4.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("not an image at all\n")
    (folder / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    return folder


def test_measure_qwen2vl_good_and_bad_images(mixed_images):
    proc = cli("measure", "-t", "qwen2vl", "--json", str(mixed_images))
    assert proc.returncode == 1, proc.stderr
    rows = {Path(r["sample"]).name: r for r in json.loads(proc.stdout)["results"]}
    assert set(rows) == {"chelsea.png", "png_named.jpg", "truncated.jpg", "empty.png", "text.png", "bomb.png"}
    chelsea, retina = rows["chelsea.png"], rows["png_named.jpg"]
    assert chelsea["error"] is None and chelsea["tokens"] == 11 * 16 and chelsea["raw_bytes"] == 300 * 451 * 3
    assert chelsea["input_bytes"] == 308 * 448 * 3 and (chelsea["width"], chelsea["height"]) == (451, 300)
    assert retina["error"] is None and retina["format"] == "PNG" and retina["mode"] == "RGBA"
    assert retina["tokens"] == 14 * 14 and retina["raw_bytes"] == 400 * 400 * 3  # alpha dropped: 3 channels
    assert "corrupt or truncated image" in rows["truncated.jpg"]["error"]
    assert "empty file" in rows["empty.png"]["error"]
    assert "not an image" in rows["text.png"]["error"]
    assert "header claims 100000x100000" in rows["bomb.png"]["error"]
    for row in rows.values():
        assert row["error"] is None or ("\n" not in row["error"] and row["tokens"] is None)


@pytest.mark.slow
def test_measure_llava_encoder_on_chelsea():
    proc = cli("measure", "-t", "vit:vit_large_patch14_clip_336", "--json", str(IMAGES / "chelsea.png"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    row = data["results"][0]
    assert row["tokens"] == 576 and row["prefix_tokens"] == 1 and row["input_bytes"] == 336 * 336 * 3
    assert row["compression"] == 300 * 451 * 3 / 576
    assert data["tokenizers"]["vit:vit_large_patch14_clip_336"]["encoder_params"] > 300e6


def test_a_vit_g_materialises_only_its_patch_embedding():
    """Only the patch embedding is built on the device: the whole ViT-g (1.1B parameters) would take 15 s
    and 4 GB. Setup time itself is measured in benchmarks/, not asserted here (CI machines are noisy)."""
    from compressbench import get_tokenizer

    tok = get_tokenizer("vit:vit_giant_patch14_dinov2", device="cpu")
    held = sum(p.numel() for p in tok.embed.parameters())
    assert all(p.device.type == "cpu" for p in tok.embed.parameters())
    assert held == 3 * 14 * 14 * 1536 + 1536  # the 14x14 conv to ViT-g's width, and its bias
    assert tok.patch_tokens == 37 * 37 and tok.encoder_params > 1.1e9 > 1000 * held


@pytest.mark.slow
def test_count_only_reads_headers_and_gives_the_measured_counts(mixed_images):
    """--count-only probes headers: the same N, T and input bytes as decoding, and the same bad files fail,
    except a file cut after its header: only decoding the pixels can find that damage."""
    specs = ["-t", "qwen2vl", "-t", "internvl", "-t", "vit:vit_base_patch16_224"]
    runs = {}
    for extra in ([], ["--count-only"]):
        proc = cli("measure", *specs, "--json", "--workers", "1", *extra, str(mixed_images), str(IMAGES))
        assert proc.returncode == 1, proc.stderr
        runs[bool(extra)] = {(r["sample"], r["tokenizer"]): r for r in json.loads(proc.stdout)["results"]}
    measured, probed = runs[False], runs[True]
    assert set(measured) == set(probed) and len(measured) == 3 * (6 + 9)
    for key, row in measured.items():
        other = probed[key]
        if key[0].endswith("truncated.jpg"):
            assert "truncated" in row["error"] and other["error"] is None and other["tokens"] > 0
            continue
        assert (other["tokens"], other["raw_bytes"], other["input_bytes"]) == \
            (row["tokens"], row["raw_bytes"], row["input_bytes"]), key
        assert (row["error"] is None) == (other["error"] is None), key
        if row["error"] is None:
            assert other["counted_from"] == "header" and (other["width"], other["height"]) == (row["width"], row["height"])
            assert other["input_coverage"] == row["input_coverage"] and "input_psnr_db" in row, key
            assert "input_psnr_db" not in other and "input_ssim" not in other, key  # coverage alone from headers
    assert sum(r["error"] is None for r in probed.values()) == 3 * (3 + 9)


@pytest.mark.slow
def test_prompt_tokens_in_rows_and_summary_for_every_vlm_family():
    """Each row carries prompt_tokens; the summary sums them and gives prompt_compression = T / prompt tokens;
    the counts from headers alone equal those from the decoded pixels."""
    specs = ["qwen2vl:preset=qwen2.5-vl", "qwen3vl", "internvl", "vit:vit_base_patch16_224", "gemma3:pan_and_scan=true",
             "llava-next:preset=llava-onevision", "idefics3:preset=smolvlm", "pixtral", "mllama"]
    runs = {}
    for extra in ([], ["--count-only"]):
        args = [a for s in specs for a in ("-t", s)]
        proc = cli("measure", *args, "--json", "--workers", "1", "--no-fidelity", *extra, str(IMAGES))
        assert proc.returncode == 0, proc.stderr
        runs[bool(extra)] = json.loads(proc.stdout)
    decoded, probed = runs[False], runs[True]
    key = lambda r: (r["sample"], r["tokenizer"])  # noqa: E731
    counts = ("tokens", "prompt_tokens", "input_bytes", "raw_bytes")
    assert {key(r): [r.get(c) for c in counts] for r in decoded["results"]} == \
        {key(r): [r.get(c) for c in counts] for r in probed["results"]}
    for row in decoded["summary"]:
        mine = [r for r in decoded["results"] if r["tokenizer"] == row["tokenizer"]]
        assert len(mine) == 9 and all(r["prompt_tokens"] >= 1 for r in mine)
        assert row["prompt_tokens"] == sum(r["prompt_tokens"] for r in mine)
        assert row["prompt_compression"] == pytest.approx(row["raw_bytes"] / row["prompt_tokens"])
    assert "prompt_tokens" in decoded["units"] and "prompt_compression" in decoded["units"]
