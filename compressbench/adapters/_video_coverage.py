"""What a video model's input keeps of a clip in time: the span its sampled frames reach and the share of frames.

From the indices of the frames an adapter takes (the same functions pick them
for the tensors and for --count-only, so both give these values), over a clip
of F frames, each lasting one frame period:

- ``input_coverage`` = (last - first + 1) / F: the share of the clip's time between
  the start of the first sampled frame and the end of the last one. A sampler
  that spreads its frames from the first to the last frame (Qwen2-VL's linspace,
  LLaVA-Video's uniform frames, every frame) covers 1; one that ticks at 1 fps
  from the start leaves the time after its last tick (under a second) unseen.
- ``input_frame_share`` = distinct sampled frames / F: what the sampling keeps
  (Qwen2-VL at 2 fps on a 30 fps clip: one frame in fifteen). Frames repeated to
  pad a clip or a temporal patch add nothing.

>>> frame_coverage([0, 30, 60, 90], 120)  # 1 fps on 4 s at 30 fps
{'input_coverage': 0.7583333333333333, 'input_frame_share': 0.03333333333333333}
>>> frame_coverage([0, 17, 34, 51, 68, 85, 102, 119, 119], 120)  # Qwen2-VL's 8 frames, the last repeated
{'input_coverage': 1.0, 'input_frame_share': 0.06666666666666667}
"""

from __future__ import annotations

from collections.abc import Sequence


def frame_coverage(indices: Sequence[int], total: int) -> dict[str, float]:
    """input_coverage and input_frame_share of sampling ``indices`` from a clip of ``total`` frames."""
    if not indices or total <= 0:
        return {"input_coverage": 0.0, "input_frame_share": 0.0}
    return {"input_coverage": (max(indices) - min(indices) + 1) / total,
            "input_frame_share": len(set(indices)) / total}
