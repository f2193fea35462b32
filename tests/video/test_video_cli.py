"""Videos through the real console script: good and bad files in one run, and --count-only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, cli
from tests.video.video_testkit import audio_only

VIDEOS = FIXTURES / "video"


@pytest.fixture
def mixed_videos(tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(VIDEOS / "earth_nasa_4s_480x270.mp4", folder / "earth.mp4")
    shutil.copy(VIDEOS / "pan_hubble_h264_320x180.mp4", folder / "mp4_named.webm")  # decoded by content
    earth = (VIDEOS / "earth_nasa_4s_480x270.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(earth[: len(earth) // 2])
    webm = (VIDEOS / "pan_rocket_vp9_180x320.webm").read_bytes()
    (folder / "truncated.webm").write_bytes(webm[:10_000])
    (folder / "corrupt.mp4").write_bytes(earth[:8] + b"\xff" * 200 + earth[208:])
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "text.mp4").write_text("not a video at all\n")
    (folder / "audio_only.mp4").write_bytes(audio_only())
    return folder


BAD = {"truncated.mp4": "not a video PyAV can read", "truncated.webm": "truncated or corrupt video",
       "corrupt.mp4": "not a video PyAV can read", "empty.mp4": "empty file", "text.mp4": "not a video PyAV can read",
       "audio_only.mp4": "no video stream"}


def test_measure_tubelet_good_and_bad_videos(mixed_videos):
    proc = cli("measure", "-t", "tubelet", "--json", str(mixed_videos))
    assert proc.returncode == 1, proc.stderr
    rows = {Path(r["sample"]).name: r for r in json.loads(proc.stdout)["results"]}
    assert set(rows) == {"earth.mp4", "mp4_named.webm", *BAD}
    earth, hubble = rows["earth.mp4"], rows["mp4_named.webm"]
    assert earth["error"] is None and earth["tokens"] == 8 * 1568 and earth["clips"] == 8
    assert earth["raw_bytes"] == 120 * 270 * 480 * 3 and earth["input_bytes"] == 128 * 224 * 224 * 3
    assert (earth["frames"], earth["fps"], earth["width"], earth["height"], earth["duration_s"]) == (120, 30.0, 480, 270, 4.0)
    assert earth["compression"] == earth["raw_bytes"] / earth["tokens"] and earth["decode_seconds"] > 0
    assert hubble["error"] is None and hubble["codec"] == "h264" and hubble["tokens"] == 6 * 1568
    for name, message in BAD.items():
        assert message in rows[name]["error"] and "\n" not in rows[name]["error"], name
        assert rows[name]["tokens"] is None


@pytest.mark.slow
def test_count_only_reads_headers_and_gives_the_measured_counts(mixed_videos):
    """--count-only probes headers: the same N, T and input bytes as decoding, and the same bad files fail,
    since each of these is damaged in its headers (or, the WebM, its duration). Every fixture's header count
    against its decoded count, in process: test_video_counts.py::test_count_only_from_headers_gives_the_measured_count."""
    specs = ["-t", "tubelet", "-t", "qwen2vl-video", "-t", "frames:vit_base_patch16_224,pool=2"]
    runs = {}
    for extra in ([], ["--count-only"]):
        proc = cli("measure", *specs, "--json", *extra, str(mixed_videos))
        assert proc.returncode == 1, proc.stderr
        runs[bool(extra)] = {(r["sample"], r["tokenizer"]): r for r in json.loads(proc.stdout)["results"]}
    measured, probed = runs[False], runs[True]
    assert set(measured) == set(probed) and len(measured) == 3 * 8
    for key, row in measured.items():
        other = probed[key]
        assert (other["tokens"], other["raw_bytes"], other["input_bytes"]) == \
            (row["tokens"], row["raw_bytes"], row["input_bytes"]), key
        assert (row["error"] is None) == (other["error"] is None), key
        if row["error"] is None:
            assert other["counted_from"] == "header" and other["frames"] == row["frames"]
            assert other.get("sampled_frames") == row.get("sampled_frames")
    assert sum(r["error"] is None for r in probed.values()) == 3 * 2
