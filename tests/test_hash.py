"""--hash full|quick|none: what each reads and records, how resume, merge and compare treat it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from compressbench.core.contenthash import HASH_MODES, QUICK_SPAN, file_digest, sample_digest
from compressbench.data.suite import Dataset
from compressbench.data.discover import Found
from compressbench.data.reading import file_record
from compressbench.measure import load_sample
from tests.conftest import FIXTURES, cli

MEDIA = [FIXTURES / "image" / "hubble_deep_field_1000.jpg", FIXTURES / "image" / "chelsea.png",
         FIXTURES / "image" / "rocket.webp"]


def _json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_quick_digest_reads_the_size_head_and_tail_only(tmp_path):
    data = bytes(range(256)) * 4096  # 1 MiB
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    quick = file_digest(p, "quick")
    head, tail = data[:QUICK_SPAN], data[-QUICK_SPAN:]
    assert quick == "quick:" + hashlib.sha256(b"quick\0%d\0" % len(data) + head + tail).hexdigest()
    p.write_bytes(data[:500_000] + b"\xff" + data[500_001:])  # the middle changed: quick cannot see it
    assert file_digest(p, "quick") == quick and file_digest(p, "full") != sample_digest(data)
    p.write_bytes(data + b"x")  # the size changed
    assert file_digest(p, "quick") != quick
    assert file_digest(p, "full") == hashlib.sha256(data + b"x").hexdigest()  # full is the file's sha256
    assert file_digest(p, "none") == ""


def _rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io to count bytes read")
def test_count_only_quick_reads_a_fraction_of_each_file(tmp_path):
    """The kernel's count of bytes read by this process: --count-only --hash quick reads headers, head and tail."""
    from PIL import Image

    big = tmp_path / "big.png"  # a noisy 2000x2000 PNG: about 12 MB that does not compress
    import numpy as np

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)).save(big)
    size = big.stat().st_size
    assert size > 10_000_000
    ds = Dataset(name="d", modality="image", paths=(str(big),), base=tmp_path)
    small = tmp_path / "small.png"  # read first, so that the modules the probe imports are not counted below
    Image.new("RGB", (8, 8)).save(small)
    load_sample(ds, file_record(Found("small.png", small, None)), count_only=True, hash_mode="quick")
    before = _rchar()
    quick = load_sample(ds, file_record(Found("big.png", big, None)), count_only=True, hash_mode="quick")
    read_quick = _rchar() - before
    before = _rchar()
    full = load_sample(ds, file_record(Found("big.png", big, None)), count_only=True, hash_mode="full")
    read_full = _rchar() - before
    assert quick.error is None and quick.probed and quick.meta == full.meta and quick.raw_bytes == full.raw_bytes
    assert quick.file_bytes == full.file_bytes == size
    assert read_full >= size and read_quick < 4 * QUICK_SPAN + 64 * 1024, (read_quick, read_full)
    assert full.sha256 == hashlib.sha256(big.read_bytes()).hexdigest() and quick.sha256.startswith("quick:")


@pytest.mark.slow
def test_quick_and_none_give_the_same_counts_as_full(tmp_path):
    images = sorted((FIXTURES / "image").glob("*"))
    runs = {}
    for mode in HASH_MODES:
        runs[mode] = _json(cli("measure", "--tokenizer", "qwen2vl", "--count-only", "--hash", mode, "--json",
                               *map(str, images)))
    exact = _json(cli("measure", "--tokenizer", "qwen2vl", "--json", *map(str, images)))
    counts = {mode: [(r["sample"], r["tokens"], r["raw_bytes"]) for r in run["results"]] for mode, run in runs.items()}
    assert counts["quick"] == counts["none"] == counts["full"] == [(r["sample"], r["tokens"], r["raw_bytes"])
                                                                  for r in exact["results"]]
    assert all(r["file_sha256"].startswith("quick:") for r in runs["quick"]["results"])
    assert all(r["file_sha256"] == "" for r in runs["none"]["results"])


@pytest.mark.parametrize("modality,spec", [("audio", "whisper"), ("video", "qwen2vl-video")])
def test_probes_read_from_the_open_file_as_from_its_bytes(modality, spec):
    """With --hash quick the probe gets the open file, not its bytes: the same headers, the same N."""
    files = sorted(str(p) for p in (FIXTURES / modality).iterdir() if p.suffix not in (".md", ".txt", ".toml"))
    full, quick = (_json(cli("measure", "--tokenizer", spec, "--count-only", "--hash", mode, "--json", *files))
                   for mode in ("full", "quick"))
    strip = ("file_sha256", "seconds", "decode_seconds")
    assert [{k: v for k, v in r.items() if k not in strip} for r in quick["results"]] == \
        [{k: v for k, v in r.items() if k not in strip} for r in full["results"]]


def _suite(tmp_path: Path) -> Path:
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["qwen2vl", "bytes"]\n'
                     f'[[datasets]]\nname = "photos"\nmodality = "image"\npaths = ["{FIXTURES / "image"}"]\n'
                     f'[[datasets]]\nname = "prose"\nmodality = "text"\npaths = ["{FIXTURES / "text" / "udhr"}/eng.txt"]\n')
    return suite


@pytest.mark.slow
def test_run_records_the_mode_and_compare_will_not_vouch_for_unhashed_data(tmp_path):
    suite = _suite(tmp_path)
    outs = {}
    for mode in ("full", "quick", "none"):
        outs[mode] = tmp_path / mode
        proc = cli("run", str(suite), "--count-only", "--hash", mode, "--out", str(outs[mode]))
        assert proc.returncode == 0, proc.stderr
        manifest = json.loads((outs[mode] / "run.json").read_text())
        summary = json.loads((outs[mode] / "summary.json").read_text())
        assert manifest["hash"] == summary["provenance"]["hash"] == mode
        assert {d["content_hash"] for d in summary["datasets"].values()} == {mode}
    none = json.loads((outs["none"] / "summary.json").read_text())["datasets"]
    assert all(d["content_sha256"] is None for d in none.values())
    assert "no content hash (--hash none)" in (outs["none"] / "report.md").read_text()

    proc = cli("compare", str(outs["full"]), str(outs["none"]))
    assert proc.returncode == 0, proc.stderr
    assert "recorded no content hash (--hash none), so compare cannot prove" in proc.stdout + proc.stderr
    proc = cli("compare", str(outs["full"]), str(outs["quick"]))
    assert proc.returncode == 0 and "hashed with --hash full in the baseline but quick" in proc.stdout + proc.stderr
    proc = cli("compare", str(outs["quick"]), str(outs["quick"]))
    assert proc.returncode == 0 and "cannot prove" not in proc.stdout + proc.stderr

    proc = cli("run", str(suite), "--count-only", "--hash", "full", "--resume", "--out", str(outs["quick"]))
    assert proc.returncode == 2 and "hash changed" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_quick_content_hash_still_catches_a_changed_file(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in MEDIA[:3]:
        (photos / p.name).write_bytes(p.read_bytes())
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["qwen2vl"]\n[[datasets]]\nname = "photos"\nmodality = "image"\npaths = ["photos"]\n')
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("run", str(suite), "--count-only", "--hash", "quick", "--out", str(a)).returncode == 0
    jpg = photos / MEDIA[0].name
    jpg.write_bytes(jpg.read_bytes() + b"\0")  # trailing bytes after the JPEG: the same image, other bytes
    assert cli("run", str(suite), "--count-only", "--hash", "quick", "--out", str(b)).returncode == 0
    proc = cli("compare", str(a), str(b))
    assert proc.returncode == 2 and "has different content" in proc.stderr
