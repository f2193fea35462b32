"""What a video model's input keeps in time: input_frame_share (frames sampled / frames in the clip) and
input_coverage (the time between the first and last sampled frames), against frame counts from PyAV itself."""

from __future__ import annotations

import io

import pytest

from compressbench.core.registry import get_tokenizer
from compressbench.data.video import decode_video, probe_video
from tests.conftest import FIXTURES
from tests.video.video_testkit import encode, ramp

CLIP = FIXTURES / "video" / "pan_hubble_h264_320x180.mp4"  # 3 s at 30 fps


def pyav_frames(data: bytes) -> tuple[int, float]:
    """Frames decoded and the average rate, read with PyAV directly."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate)
        return sum(1 for _ in container.decode(stream)), rate


@pytest.fixture(scope="module")
def clip():
    data = CLIP.read_bytes()
    return data, decode_video(data), probe_video(data)


# (spec, frames kept as a function of the clip's frame count F at rate r, index of the last kept frame)
CASES = [
    # qwen-vl-utils at 2 fps: F / r x 2 frames over linspace(0, F - 1): one in fifteen at 30 fps, first to last
    ("qwen2vl-video", lambda f, r: round(f / r * 2), lambda f, r: f - 1),
    # one frame a second from frame 0: the last tick is at floor((F - 1) / r) s
    ("frames:vit_base_patch16_224", lambda f, r: -(-f // round(r)), lambda f, r: (f - 1) // round(r) * round(r)),
    # every frame, in 16-frame clips (the last one padded with repeats, which are not new frames)
    ("tubelet", lambda f, r: f, lambda f, r: f - 1),
]


@pytest.mark.parametrize("spec, kept, last", CASES, ids=[c[0] for c in CASES])
def test_frame_share_and_time_coverage_against_pyav(clip, spec, kept, last):
    data, decoded, probed = clip
    frames, rate = pyav_frames(data)
    tok = get_tokenizer(spec, device="cpu")
    measured = tok.count(decoded.payload).counts
    assert measured["input_frame_share"] == kept(frames, rate) / frames
    assert measured["input_coverage"] == (last(frames, rate) + 1) / frames
    shape_only = {k: v for k, v in measured.items() if k not in ("input_psnr_db", "input_ssim")}  # need pixels
    assert tok.count_from_meta(probed.meta).counts == shape_only  # --count-only: the same values from the headers


def test_qwen2vl_at_2_fps_on_30_fps_keeps_one_frame_in_fifteen():
    video = decode_video(encode(ramp(120, 56, 56), fps=30)).payload  # 4 s
    counts = get_tokenizer("qwen2vl-video", device="cpu").count(video).counts
    assert counts["input_frame_share"] == pytest.approx(1 / 15) and counts["input_coverage"] == 1.0
