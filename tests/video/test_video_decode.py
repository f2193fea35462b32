"""Video decoding: every frame as RGB at native size, T = frames x H x W x 3, header probes, one-line errors."""

from __future__ import annotations

import av
import numpy as np
import pytest

from compressbench.core.errors import SampleError
from compressbench.data.modalities import decoder_for, probe_for
from compressbench.data.video import Video, decode_video, probe_video
from tests.conftest import FIXTURES
from tests.video.video_testkit import audio_only, encode, ramp

VIDEOS = FIXTURES / "video"
# (frames, fps, width, height, codec, has_audio, duration_s) as fixtures/MEDIA.md lists them.
EXPECTED = {
    "bigbuckbunny_3s_1280x720_audio.mp4": (75, 25.0, 1280, 720, "h264", True, 3.0),
    "earth_nasa_4s_480x270.mp4": (120, 30.0, 480, 270, "h264", False, 4.0),
    "pan_chelsea_av1_320x240.mp4": (72, 24.0, 320, 240, "av1", False, 3.0),
    "pan_hubble_h264_320x180.mp4": (90, 30.0, 320, 180, "h264", False, 3.0),
    "pan_rocket_vp9_180x320.webm": (90, 30.0, 180, 320, "vp9", False, 3.0),
}


@pytest.fixture(scope="module")
def decoded() -> dict[str, object]:
    return {name: decode_video((VIDEOS / name).read_bytes()) for name in EXPECTED}


def test_every_fixture_is_listed_and_the_modality_is_registered():
    assert sorted(p.name for p in VIDEOS.iterdir()) == sorted(EXPECTED)
    assert decoder_for("video") is decode_video and probe_for("video") is probe_video


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixtures_decode_every_frame_at_native_size(name, decoded):
    frames, fps, width, height, codec, has_audio, duration = EXPECTED[name]
    d = decoded[name]
    video = d.payload
    assert isinstance(video, Video) and video.frames.shape == (frames, height, width, 3)
    assert video.frames.dtype == np.uint8 and video.fps == fps and video.duration_s == duration
    assert d.raw_bytes == frames * height * width * 3
    assert d.meta == {"frames": frames, "fps": fps, "width": width, "height": height, "duration_s": duration,
                      "codec": codec, "has_audio": has_audio}
    assert video.pts.shape == (frames,) and video.pts[0] == 0 and np.all(np.diff(video.pts) > 0)
    assert video.pts[-1] == pytest.approx((frames - 1) / fps, abs=1e-3)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_probe_reads_the_same_facts_from_headers(name, decoded):
    probed = probe_video((VIDEOS / name).read_bytes())
    assert probed.payload is None
    assert (probed.raw_bytes, probed.meta) == (decoded[name].raw_bytes, decoded[name].meta)


def test_the_webm_frame_count_comes_from_its_packets():
    """Matroska records no frame count: the probe counts packets (demuxing, not decoding)."""
    with av.open(str(VIDEOS / "pan_rocket_vp9_180x320.webm")) as container:
        assert container.streams.video[0].frames == 0
    assert probe_video((VIDEOS / "pan_rocket_vp9_180x320.webm").read_bytes()).meta["frames"] == 90


@pytest.mark.parametrize("frames, height, width", [(1, 37, 53), (3, 17, 301), (5, 301, 17)])
def test_synthetic_odd_sizes_decode_losslessly(frames, height, width):
    pixels = ramp(frames, height, width)
    data = encode(pixels, fps=30)
    d = decode_video(data)
    assert np.array_equal(d.payload.frames, pixels) and d.raw_bytes == pixels.size
    assert (d.meta["frames"], d.meta["width"], d.meta["height"]) == (frames, width, height)
    assert probe_video(data).meta == d.meta


def _bad_inputs() -> dict[str, tuple[bytes, str]]:
    earth = (VIDEOS / "earth_nasa_4s_480x270.mp4").read_bytes()
    webm = (VIDEOS / "pan_rocket_vp9_180x320.webm").read_bytes()
    rng = np.random.default_rng(0)
    return {
        "empty": (b"", "empty file"),
        "text": (b"this is a text file, not a video\n" * 10, "not a video PyAV can read"),
        "random bytes": (rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(), "not a video PyAV can read"),
        "truncated mp4": (earth[: len(earth) // 2], "not a video PyAV can read"),
        "mp4 with a corrupt header": (earth[:8] + b"\xff" * 200 + earth[208:], "not a video PyAV can read"),
        "truncated webm": (webm[:10_000], "truncated or corrupt video"),
        "audio only": (audio_only(), r"no video stream in the file \(1 audio\)"),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
@pytest.mark.parametrize("reader", [decode_video, probe_video], ids=["decode", "probe"])
def test_bad_files_give_one_line_errors(case, reader):
    data, message = _bad_inputs()[case]
    with pytest.raises(SampleError, match=message) as info:
        reader(data)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("reader", [decode_video, probe_video], ids=["decode", "probe"])
@pytest.mark.parametrize("limit, needed, message", [
    ("max_frames", 120, "120 frames, over the limit of 119 \\(max_frames\\)"),
    ("max_pixels_per_frame", 480 * 270, "over the limit of 129,599 \\(max_pixels_per_frame\\)"),
    ("max_bytes", 120 * 480 * 270 * 3, "are 46,656,000 bytes decoded, over the limit of 46,655,999 \\(max_bytes\\)"),
])
def test_limits_refuse_before_decoding(reader, limit, needed, message):
    """One under what the earth clip needs is refused (from its header), exactly what it needs is not."""
    data = (VIDEOS / "earth_nasa_4s_480x270.mp4").read_bytes()
    with pytest.raises(SampleError, match=message):
        reader(data, **{limit: needed - 1})
    assert reader(data, **{limit: needed}).meta["frames"] == 120


def test_limits_hold_without_a_frame_count_in_the_header():
    """A WebM lists no frame count: the decoder stops once it has decoded one frame too many."""
    data = (VIDEOS / "pan_rocket_vp9_180x320.webm").read_bytes()
    for reader in (decode_video, probe_video):
        with pytest.raises(SampleError, match="over the limit of 50 \\(max_frames\\)"):
            reader(data, max_frames=50)


def test_limits_may_be_floats_as_a_suite_gives_them():
    data = (VIDEOS / "pan_rocket_vp9_180x320.webm").read_bytes()  # no frame count: the buffer grows
    assert decode_video(data, max_frames=1e4, max_pixels_per_frame=1e8, max_bytes=4e9).meta["frames"] == 90
