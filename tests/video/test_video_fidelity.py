"""PSNR and SSIM of the sampled frames' resize: the mean over frames, against scikit-image frame by frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compressbench import get_tokenizer
from compressbench.adapters._fidelity import restore
from compressbench.adapters._image import resize
from compressbench.data.video import Video, decode_video
from tests.conftest import FIXTURES

skimage_metrics = pytest.importorskip("skimage.metrics")  # the dev extra


def constant_rate(frames: np.ndarray, fps: float) -> Video:
    return Video(frames=frames, fps=fps, duration_s=len(frames) / fps, pts=np.arange(len(frames)) / fps)


def test_qwen2vl_video_is_the_mean_of_its_frames_round_trips():
    video = decode_video((FIXTURES / "video" / "earth_nasa_4s_480x270.mp4").read_bytes()).payload
    tok = get_tokenizer("qwen2vl-video", device="cpu")
    n, h, w = tok.plan(video.num_frames, video.fps, video.height, video.width)
    indices = torch.linspace(0, video.num_frames - 1, n).round().long().tolist()  # qwen-vl-utils' sampling
    psnr, ssim = [], []
    for i in indices:
        x = torch.from_numpy(video.frames[i]).permute(2, 0, 1)[None].float() / 255
        back = restore(resize(x, h, w), video.height, video.width)
        a, b = (t[0].permute(1, 2, 0).double().numpy() * 255 for t in (x, back))
        psnr.append(skimage_metrics.peak_signal_noise_ratio(a, b, data_range=255))
        ssim.append(skimage_metrics.structural_similarity(a, b, data_range=255, channel_axis=2, gaussian_weights=True,
                                                          sigma=1.5, use_sample_covariance=False))
    counts = tok.count(video).counts
    assert len(indices) == counts["sampled_frames"] == 8
    assert counts["input_psnr_db"] == pytest.approx(np.mean(psnr), abs=1e-3)
    assert counts["input_ssim"] == pytest.approx(np.mean(ssim), abs=2e-4)


@pytest.mark.parametrize("spec, side", [("tubelet", 224), ("frames:vit_large_patch14_clip_336", 336)])
def test_frames_at_the_models_size_are_kept_exactly(spec, side):
    rng = np.random.default_rng(0)
    video = constant_rate(rng.integers(0, 256, (5, side, side, 3), dtype=np.uint8), 2.0)
    tok = get_tokenizer(spec, device="cpu")
    counts = tok.count(video).counts
    assert counts["input_psnr_db"] == 100.0 and counts["input_ssim"] == pytest.approx(1.0, abs=1e-6)
    tok.measure_fidelity = False
    assert not {"input_psnr_db", "input_ssim"} & set(tok.count(video).counts)


def test_a_long_video_is_measured_on_eight_frames_spread_evenly():
    """tubelet keeps all 20 frames (and pads its second clip): the mean is over frames 0, 2, 5, 8, 10, 13, 16
    and 19, each one's round trip through 224 x 224 as scikit-image measures it."""
    frames = np.random.default_rng(3).integers(0, 256, (20, 40, 60, 3), dtype=np.uint8)
    psnr, ssim = [], []
    for i in np.linspace(0, 19, 8).astype(int):
        x = torch.from_numpy(frames[i]).permute(2, 0, 1)[None].float() / 255
        a, b = (t[0].permute(1, 2, 0).double().numpy() * 255 for t in (x, restore(resize(x, 224, 224), 40, 60)))
        psnr.append(skimage_metrics.peak_signal_noise_ratio(a, b, data_range=255))
        ssim.append(skimage_metrics.structural_similarity(a, b, data_range=255, channel_axis=2, gaussian_weights=True,
                                                          sigma=1.5, use_sample_covariance=False))
    counts = get_tokenizer("tubelet", device="cpu").count(constant_rate(frames, 30.0)).counts
    assert counts["sampled_frames"] == 32
    assert counts["input_psnr_db"] == pytest.approx(np.mean(psnr), abs=1e-3)
    assert counts["input_ssim"] == pytest.approx(np.mean(ssim), abs=2e-4)
