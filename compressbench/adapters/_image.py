"""What the image adapters share: payload checks, batching by shape, tensors on the device.

The payload is the decoder's (:func:`compressbench.data.image.decode_image`): a
C-contiguous uint8 numpy array of shape (H, W, 3). Images of one shape are
stacked into one batch on the device (a resize needs one input size), in chunks
that bound device memory. torch is imported only when a batch is counted.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from compressbench.adapters._fidelity import MeasuresFidelity
from compressbench.adapters.base import BatchedTokenizer
from compressbench.core.errors import ConfigError, SampleError
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import numpy as np
    import torch

# Pixels stacked into one batch at most (float32 RGB: 12 bytes a pixel, so about 0.8 GB); one bigger
# image still goes alone.
BATCH_PIXELS = 1 << 26


def require_image(payload: Any) -> "np.ndarray":
    """The payload as an (H, W, 3) uint8 array, or a SampleError saying what it is instead."""
    import numpy as np

    if not isinstance(payload, np.ndarray):
        raise SampleError(
            f"image tokenizers take a decoded image (uint8 array H x W x 3), got {type(payload).__name__}")
    if payload.ndim != 3 or payload.shape[2] != 3 or payload.dtype != np.uint8:
        raise SampleError(f"expected a uint8 RGB array of shape (H, W, 3), got {payload.dtype} {payload.shape}")
    if payload.shape[0] == 0 or payload.shape[1] == 0:
        raise SampleError(f"image of {payload.shape[0]}x{payload.shape[1]} pixels has no area")
    return payload


def shape_batches(shapes: Sequence[tuple[int, int]], budget: int = BATCH_PIXELS) -> list[list[int]]:
    """Indices grouped by equal (H, W), each group cut into chunks of at most ``budget`` pixels.

    >>> shape_batches([(2, 2), (3, 3), (2, 2)], budget=8)
    [[0, 2], [1]]
    >>> shape_batches([(2, 2)] * 3, budget=8)
    [[0, 1], [2]]
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for i, shape in enumerate(shapes):
        groups.setdefault(shape, []).append(i)
    batches = []
    for (h, w), indices in groups.items():
        per_batch = max(1, budget // (h * w))
        batches += [indices[k:k + per_batch] for k in range(0, len(indices), per_batch)]
    return batches


def resize(x: "torch.Tensor", height: int, width: int) -> "torch.Tensor":
    """Bicubic resize of an (B, C, H, W) float batch, antialiased like Pillow when shrinking."""
    import torch.nn.functional as F

    if tuple(x.shape[-2:]) == (height, width):
        return x
    if width == 1 and height > 1:  # torch's antialiased bicubic mis-resamples the height when the output is one
        return resize(x.transpose(-2, -1), 1, height).transpose(-2, -1)  # pixel wide; one pixel high is right
    return F.interpolate(x, size=(height, width), mode="bicubic", align_corners=False, antialias=True)


class ImageTokenizer(MeasuresFidelity, BatchedTokenizer):
    """Base of the image adapters: subclasses count one same-shape batch and give N from a shape."""

    modality = "image"
    uses_torch = True
    requires: tuple[str, ...] = ("torch", "numpy", "PIL")
    install_hint = "pip install torch pillow numpy"

    @abstractmethod
    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        """Count a (B, 3, H, W) float batch in [0, 1] on ``self.device``: one TokenCount an image."""

    @abstractmethod
    def count_for_shape(self, height: int, width: int) -> TokenCount:
        """What :meth:`count` reports for an image of this size, from the shape alone; SampleError if refused."""

    def tokens_for_shape(self, height: int, width: int) -> int:
        """N for an image of this size, from the shape alone (count-only mode); SampleError if refused."""
        return self.count_for_shape(height, width).tokens

    def count_from_meta(self, meta: dict[str, Any]) -> TokenCount:
        """--count-only: the count from a probed header's ``height`` and ``width`` (upright)."""
        try:
            height, width = int(meta["height"]), int(meta["width"])
        except (KeyError, TypeError, ValueError):
            raise SampleError(f"{self.name}: the sample's metadata has no image height and width") from None
        return self.count_for_shape(height, width)

    def count_batch(self, payloads: Sequence[Any]) -> list[TokenCount | SampleError]:
        import torch

        out: list[TokenCount | SampleError | None] = [None] * len(payloads)
        good: list[int] = []
        for i, payload in enumerate(payloads):
            try:
                require_image(payload)
                good.append(i)
            except SampleError as exc:
                out[i] = exc
        for chunk in shape_batches([payloads[i].shape[:2] for i in good]):
            indices = [good[k] for k in chunk]
            try:
                with torch.inference_mode():
                    batch = self.to_batch([payloads[i] for i in indices])
                    results: list[TokenCount | SampleError] = list(self.count_decoded(batch))
            except SampleError as exc:  # a shape the model refuses: every image of that shape
                results = [exc] * len(indices)
            for i, result in zip(indices, results):
                out[i] = result
        return out  # type: ignore[return-value]

    def to_batch(self, arrays: Sequence["np.ndarray"]) -> "torch.Tensor":
        """(H, W, 3) uint8 arrays of one shape -> a (B, 3, H, W) float32 batch in [0, 1] on the device."""
        import numpy as np
        import torch

        stacked = torch.from_numpy(np.stack(arrays)).to(self.device, non_blocking=True)
        return stacked.permute(0, 3, 1, 2).float().div_(255.0)


def preset_options(family: str, config: Any, presets: dict[str, dict[str, Any]],
                   zero_ok: tuple[str, ...] = ()) -> dict[str, Any]:
    """The config's options with each unset (None) one taken from its preset; ConfigError for an unknown preset
    or an integer option below 1 (below 0 for those in ``zero_ok``).

    >>> from types import SimpleNamespace
    >>> preset_options("f", SimpleNamespace(preset="a", size=None, n=3), {"a": {"size": 2, "n": 1}})
    {'size': 2, 'n': 3}
    """
    if config.preset not in presets:
        raise ConfigError(f"{family}: unknown preset {config.preset!r}; choose one of {', '.join(presets)}")
    values = {k: (getattr(config, k) if getattr(config, k) is not None else v) for k, v in presets[config.preset].items()}
    for name, value in values.items():
        if isinstance(value, int) and not isinstance(value, bool) and value < (0 if name in zero_ok else 1):
            kind = "a non-negative" if name in zero_ok else "a positive"
            raise ConfigError(f"{family} option {name} must be {kind} integer, got {value}")
    return values
