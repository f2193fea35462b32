"""Video token counts against the real models' published definitions, on CPU and (when present) CUDA.

The references below are written from the models' own code and papers,
independently of compressbench's adapters: VideoMAE / ViViT's tubelet embedding
(16 frames at 224^2, 2 x 16 x 16 tubelets), qwen-vl-utils' ``fetch_video``
(``smart_nframes``, its own ``smart_resize`` and pixel limits) with
Qwen2VLImageProcessor's 2 x 14 x 14 patches merged 2 x 2, and each ViT's
published input size, patch size and class token for ``frames:``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from compressbench import get_tokenizer
from compressbench.adapters._fidelity import shape_only
from compressbench.adapters._video_geometry import qwen2vl_frame_indices, sample_indices
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.registry import list_families
from compressbench.data.video import Video, decode_video, probe_video
from tests.conftest import FIXTURES

DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")])]
VIDEOS = FIXTURES / "video"


# --- references ---------------------------------------------------------------------------------------------
# Each family's independent reference and the specs it is tested with, side by side below:
# family -> (reference(frames, native fps, height, width, **config options) -> expected dict, or None when the
# model refuses; specs). The tests are parametrised over the registry: a family without an entry here fails them.
CASES: dict[str, tuple[Callable[..., dict | None], list[str]]] = {}


def ref_kept(frames: int, native_fps: float, fps: float | None = None, stride: int | None = None) -> int:
    """Frames kept: all, every stride-th, or one per 1/fps seconds of the clip's frames / native_fps seconds."""
    if stride:
        return -(-frames // stride)
    if fps is None or fps >= native_fps:
        return frames
    return math.ceil(round(frames / native_fps * fps, 9))


def ref_tubelet(frames, native_fps, height, width, *, num_frames=16, image_size=224, tubelet_size=2, patch_size=16,
                fps=None, stride=None) -> dict:
    """VideoMAE/ViViT: clips of num_frames (last padded), (T / t) x (S / p)^2 tubelets a clip."""
    clips = -(-ref_kept(frames, native_fps, fps, stride) // num_frames)
    per_clip = (num_frames // tubelet_size) * (image_size // patch_size) ** 2
    return {"tokens": clips * per_clip, "input_bytes": clips * num_frames * image_size ** 2 * 3,
            "sampled_frames": clips * num_frames, "clips": clips}


# qwen-vl-utils 0.0.8 vision_process.py, constants and helpers as published.
IMAGE_FACTOR, FRAME_FACTOR, MAX_RATIO = 28, 2, 200
VIDEO_MIN_PIXELS, VIDEO_MAX_PIXELS, VIDEO_TOTAL_PIXELS = 128 * 28 * 28, 768 * 28 * 28, 24576 * 28 * 28
FPS, FPS_MIN_FRAMES, FPS_MAX_FRAMES = 2.0, 4, 768


CASES["tubelet"] = (ref_tubelet, ["tubelet", "tubelet:fps=4", "tubelet:stride=3,num_frames=8,image_size=112"])


def round_by_factor(number, factor):
    return round(number / factor) * factor


def ceil_by_factor(number, factor):
    return math.ceil(number / factor) * factor


def floor_by_factor(number, factor):
    return math.floor(number / factor) * factor


def qvu_smart_resize(height, width, factor=IMAGE_FACTOR, min_pixels=None, max_pixels=None):
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ValueError("absolute aspect ratio must be smaller than 200")
    h_bar = max(factor, round_by_factor(height, factor))
    w_bar = max(factor, round_by_factor(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = floor_by_factor(height / beta, factor)
        w_bar = floor_by_factor(width / beta, factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = ceil_by_factor(height * beta, factor)
        w_bar = ceil_by_factor(width * beta, factor)
    return h_bar, w_bar


def smart_nframes(ele, total_frames, video_fps):
    if "nframes" in ele:
        nframes = round_by_factor(ele["nframes"], FRAME_FACTOR)
    else:
        fps = ele.get("fps", FPS)
        min_frames = ceil_by_factor(ele.get("min_frames", FPS_MIN_FRAMES), FRAME_FACTOR)
        max_frames = floor_by_factor(ele.get("max_frames", min(FPS_MAX_FRAMES, total_frames)), FRAME_FACTOR)
        nframes = total_frames / video_fps * fps
        nframes = min(min(max(nframes, min_frames), max_frames), total_frames)
        nframes = floor_by_factor(nframes, FRAME_FACTOR)
    if not (FRAME_FACTOR <= nframes and nframes <= total_frames):
        raise ValueError(f"nframes should in interval [{FRAME_FACTOR}, {total_frames}], but got {nframes}.")
    return nframes


def ref_qwen2vl_video(frames, native_fps, height, width, *, fps=2.0, nframes=None, min_frames=4, max_frames=768,
                      min_pixels=VIDEO_MIN_PIXELS, max_pixels=VIDEO_MAX_PIXELS, total_pixels=VIDEO_TOTAL_PIXELS,
                      patch_size=14, merge_size=2, temporal_patch_size=2) -> dict | None:
    """fetch_video's frame count and size, then Qwen2VLImageProcessor's grid_t x grid_h x grid_w / merge^2."""
    ele = {"nframes": nframes} if nframes is not None else {"fps": fps, "min_frames": min_frames, "max_frames": max_frames}
    try:
        n = smart_nframes(ele, frames, native_fps)
        frame_max = max(min(max_pixels, total_pixels / n * FRAME_FACTOR), int(min_pixels * 1.05))
        h, w = qvu_smart_resize(height, width, factor=patch_size * merge_size, min_pixels=min_pixels,
                                max_pixels=frame_max)
    except ValueError:
        return None
    grid_t, grid_h, grid_w = -(-n // temporal_patch_size), h // patch_size, w // patch_size
    return {"tokens": grid_t * grid_h * grid_w // merge_size ** 2, "input_bytes": n * h * w * 3, "sampled_frames": n}


CASES["qwen2vl-video"] = (ref_qwen2vl_video, ["qwen2vl-video", "qwen2vl-video:fps=1,total_pixels=100000",
                                              "qwen2vl-video:nframes=7"])


VIT_PUBLISHED = {  # input side, patch side, class tokens
    "vit_large_patch14_clip_336": (336, 14, 1),  # LLaVA-1.5's CLIP ViT-L/14-336: 24 x 24 = 576
    "vit_base_patch16_224": (224, 16, 1),  # ViT-B/16: 14 x 14
}


def ref_frames(frames, native_fps, height, width, *, model="vit_large_patch14_clip_336", fps=1.0, pool=1,
               img_size=None, max_frames=None, crop_mode=None) -> dict:
    """One frame a 1/fps seconds (at most max_frames), (side / patch)^2 tokens each, pool x pool pooling (floor)."""
    side, patch, prefix = VIT_PUBLISHED[model]
    n = ref_kept(frames, native_fps, fps)
    n = min(n, max_frames) if max_frames else n
    per_frame = ((side // patch) // pool) ** 2
    return {"tokens": n * per_frame, "input_bytes": n * side * side * 3, "sampled_frames": n, "prefix_tokens": n * prefix}


CASES["frames"] = (ref_frames, ["frames:vit_base_patch16_224", "frames:vit_large_patch14_clip_336,pool=2,fps=2",
                                "frames:vit_base_patch16_224,fps=30,max_frames=8"])

VIDEO_FAMILIES = sorted(f for f, e in list_families().items() if e.cls.modality == "video")
# Every registered family's specs; a family without a case is tested under its bare name (and fails).
SPECS = [spec for family in VIDEO_FAMILIES for spec in (CASES[family][1] if family in CASES else [family])]
# (frames, fps, height, width): odd sizes, portrait, an extreme strip, 1 and 3 frames, 100 frames at 30 fps.
SHAPES = [(1, 30.0, 37, 53), (3, 25.0, 17, 301), (5, 24.0, 301, 17), (100, 30.0, 48, 64), (16, 29.97, 90, 160),
          (33, 12.0, 2, 500)]


def reference(tok, frames, fps, height, width) -> dict | None:
    if tok.family not in CASES:
        pytest.fail(f"video family {tok.family!r} has no independent reference: add one to CASES in {__name__}")
    options = {f: getattr(tok.config, f) for f in tok.config.__dataclass_fields__}
    return CASES[tok.family][0](frames, fps, height, width, **options)


def check(tok, result, frames, fps, height, width, duration) -> None:
    ref = reference(tok, frames, fps, height, width)
    assert ref is not None, f"{tok.name} measured {frames} frames of {height}x{width}, which the model refuses"
    assert (result.tokens, result.input_bytes) == (ref["tokens"], ref["input_bytes"]), (tok.name, frames, height, width)
    for key in ("sampled_frames", "clips", "prefix_tokens"):
        assert result.counts.get(key) == ref.get(key), (tok.name, key)
    assert result.counts["duration_s"] == duration  # summed, it converts hours of video in data plans
    meta = {"frames": frames, "fps": fps, "height": height, "width": width, "duration_s": duration}
    assert tok.count_from_meta(meta) == shape_only(result)  # count-only gives the measured count (no PSNR/SSIM)


@pytest.fixture(scope="module")
def fixture_videos() -> dict[str, Video]:
    return {p.name: decode_video(p.read_bytes()).payload for p in sorted(VIDEOS.iterdir())}


def synthetic(frames: int, fps: float, height: int, width: int) -> Video:
    rng = np.random.default_rng(frames * 1000 + height)
    return Video(frames=rng.integers(0, 256, (frames, height, width, 3), dtype=np.uint8), fps=fps,
                 duration_s=frames / fps, pts=np.arange(frames) / fps)


# --- tests --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("family", VIDEO_FAMILIES)
def test_every_video_family_has_an_independent_reference(family):
    assert family in CASES, f"video family {family!r} has no independent reference: add one to CASES in {__name__}"
    assert CASES[family][1] and all(s.split(":")[0] == family for s in CASES[family][1])


def test_the_registry_holds_the_families_this_file_knows():
    assert {"frames", "qwen2vl-video", "tubelet"} <= set(VIDEO_FAMILIES)  # the built-ins, whatever plugins add


def test_published_reference_counts(tokenizer):
    """Published: VideoMAE/ViViT 16 frames at 224^2 -> 1568; LLaVA's CLIP-336 per frame 576, pooled 144."""
    assert tokenizer("tubelet", "cpu").count(synthetic(16, 30.0, 240, 320)).tokens == 8 * 14 * 14 == 1568
    frames = tokenizer("frames:vit_large_patch14_clip_336,pool=2,fps=2", "cpu")
    assert frames.count_for_shape(1, 30.0, 336, 336).tokens == 144 and frames.tokens_per_frame == 144
    assert tokenizer("frames:vit_base_patch16_224", "cpu").tokens_per_frame == 196


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SPECS)
def test_fixtures_match_the_published_definitions(spec, device, tokenizer, fixture_videos):
    tok = tokenizer(spec, device)
    for name, video in fixture_videos.items():
        check(tok, tok.count(video), video.num_frames, video.fps, video.height, video.width, video.duration_s)


@pytest.mark.parametrize("spec", SPECS)
def test_count_only_from_headers_gives_the_measured_count(spec, tokenizer, fixture_videos):
    tok = tokenizer(spec, "cpu")
    for name, video in fixture_videos.items():
        probed = probe_video((VIDEOS / name).read_bytes())
        assert tok.count_from_meta(probed.meta) == shape_only(tok.count(video)), name


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SPECS)
def test_synthetic_shapes(spec, device, tokenizer):
    tok = tokenizer(spec, device)
    for shape in SHAPES:
        video = synthetic(*shape)
        if reference(tok, *shape) is None:  # Qwen2-VL refuses a 1-frame video and a 250:1 strip
            with pytest.raises(SampleError):
                tok.count(video)
            with pytest.raises(SampleError):
                tok.count_from_meta(dict(zip(("frames", "fps", "height", "width"), shape)))
        else:
            check(tok, tok.count(video), *shape, video.duration_s)


def test_qwen2vl_video_refusals_are_the_models(tokenizer):
    tok = tokenizer("qwen2vl-video", "cpu")
    with pytest.raises(SampleError, match="needs between 2 and the video's 1"):
        tok.count(synthetic(1, 30.0, 56, 56))
    with pytest.raises(SampleError, match="over Qwen2-VL's limit of 200"):
        tok.count(synthetic(4, 30.0, 2, 500))
    assert tok.count(synthetic(3, 30.0, 56, 56)).counts["sampled_frames"] == 2


def test_qwen2vl_frames_are_qwen_vl_utils_linspace():
    for total, n in [(120, 8), (75, 6), (3, 2), (1000, 66), (90, 6)]:
        expected = torch.linspace(0, total - 1, n).round().long().tolist()
        assert qwen2vl_frame_indices(total, n) == expected


@pytest.mark.parametrize("name", ["earth_nasa_4s_480x270.mp4", "pan_chelsea_av1_320x240.mp4"])
@pytest.mark.parametrize("fps", [1.0, 2.0, 7.0])
def test_sampled_frames_are_the_nearest_to_each_tick(name, fps, fixture_videos):
    """By frame timestamps: the frame shown at k / fps seconds is the one sampled (no tick falls on a tie)."""
    video = fixture_videos[name]
    indices = sample_indices(video.num_frames, video.fps, fps=fps)
    ticks = np.arange(len(indices)) / fps
    nearest = [int(np.argmin(np.abs(video.pts - t))) for t in ticks]
    assert indices == nearest and ticks[-1] <= video.pts[-1] + 0.5 / video.fps


def test_frames_over_max_frames_are_llava_videos_uniform_sample(tokenizer):
    tok = tokenizer("frames:vit_base_patch16_224,fps=30,max_frames=8", "cpu")
    assert tok.frame_indices(100, 30.0) == np.linspace(0, 99, 8, dtype=int).tolist()
    assert tok.frame_indices(5, 30.0) == [0, 1, 2, 3, 4]


def test_padding_repeats_the_final_frame(tokenizer):
    tok = tokenizer("tubelet", "cpu")
    assert tok.clip_indices(20, 30.0) == [list(range(16)), [16, 17, 18, 19] + [19] * 12]
    assert tok.clip_indices(1, 30.0) == [[0] * 16]


@pytest.mark.parametrize("spec, message", [
    ("tubelet:num_frames=15", "multiple of tubelet_size"),
    ("tubelet:image_size=100", "multiple of tubelet_size"),
    ("tubelet:fps=2,stride=2", "fps or stride, not both"),
    ("tubelet:stride=0", "stride must be a positive integer"),
    ("qwen2vl-video:fps=0", "must be positive"),
    ("qwen2vl-video:min_pixels=1000000", "larger than max_pixels"),
    ("frames:vit_base_patch16_224,pool=20", "larger than"),
    ("frames:vit_base_patch16_224,max_frames=0", "max_frames must be a positive integer"),
    ("frames:not_a_model", "unknown timm model"),
])
def test_bad_options_are_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        get_tokenizer(spec, device="cpu")


def test_a_batch_with_a_bad_payload_keeps_its_order(tokenizer, fixture_videos):
    tok = tokenizer("tubelet", "cpu")
    good = fixture_videos["pan_hubble_h264_320x180.mp4"]
    results = tok.count_batch([good, "text", np.zeros((2, 4, 4, 3), np.uint8), good])
    assert [getattr(r, "tokens", None) for r in results] == [9408, None, None, 9408]
    assert "got str" in str(results[1]) and "got ndarray" in str(results[2])
