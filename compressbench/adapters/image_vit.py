"""``vit:TIMM_MODEL``: the patch tokens of a timm ViT-family encoder at its pretrained input size.

The model is instantiated on torch's ``meta`` device (``pretrained=False``, no
weights, no memory: a ViT-g takes a fraction of a second) only to read its
pretrained config, patch embedding, prefix tokens and parameter count; its
``patch_embed`` alone is then materialised on the device. Each image goes through
timm's own eval transform (resize, center crop, normalise, from
``resolve_model_data_config`` + ``create_transform``) applied to the batch tensor
on the device, then through the patch embedding: N is the number of tokens that
comes out. Class and register tokens are reported apart as ``prefix_tokens``.
``input_coverage`` is the share of the image inside the center crop (1 when the
transform squashes the whole image, as timm's CLIP configs do; ``crop_mode=center``
gives OpenAI CLIP's shortest-side resize and center crop instead), and PSNR / SSIM
compare that window with the crop resized back (:mod:`compressbench.adapters._fidelity`).
``prompt_tokens`` is N: a LLaVA-1.5-style prompt puts one position per patch
token in place of its <image> placeholder, with no special tokens around them.

>>> from compressbench.core.registry import get_tokenizer
>>> get_tokenizer("vit:vit_large_patch14_clip_336", device="cpu").tokens_for_shape(300, 451)  # LLaVA-1.5
576
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from compressbench.adapters._image import ImageTokenizer
from compressbench.adapters.base import check_positive
from compressbench.core.errors import ConfigError, SampleError, first_line
from compressbench.core.registry import register_tokenizer
from compressbench.core.sample import TokenCount

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class VitConfig:
    model: str = field(default="vit_base_patch16_224", metadata={
        "help": "timm model name of a ViT-family encoder (one with a patch_embed), e.g. vit_large_patch14_clip_336"})
    img_size: int | None = field(default=None, metadata={
        "help": "square input side in pixels instead of the pretrained config's (the patch grid follows)"})
    crop_mode: str | None = field(default=None, metadata={
        "help": "center (resize the short side, crop the middle: OpenAI CLIP's preprocessing) or squash (resize "
                "to the input size); default: the pretrained config's. N is the same; the pixels seen differ"})


def _tokens_out(out: "torch.Tensor", embed: Any) -> int:
    """Tokens in a patch embedding's output: (B, N, C) flattened, or a (B, H, W, C) / (B, C, H, W) grid."""
    if out.ndim == 3:
        return int(out.shape[1])
    fmt = getattr(getattr(embed, "output_fmt", None), "value", "NCHW")
    return int(out.shape[1] * out.shape[2]) if fmt == "NHWC" else int(out.shape[2] * out.shape[3])


def _create_on_meta(name: str, img_size: int | None) -> Any:
    """The timm model without weights or memory, or a ConfigError that suggests names."""
    import timm
    import torch

    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=3, cutoff=0.6)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown timm model {name!r}{hint} (list them with timm.list_models('vit_*'))")
    kwargs: dict[str, Any] = {"pretrained": False, "num_classes": 0}  # no classifier: the encoder alone
    if img_size is not None:
        kwargs["img_size"] = img_size
    try:
        with torch.device("meta"):
            return timm.create_model(name, **kwargs)
    except (TypeError, ValueError, AssertionError, RuntimeError) as exc:
        raise ConfigError(f"timm could not build {name!r} with {kwargs}: {first_line(exc)}") from None


CROP_MODES = ("center", "squash")


def crop_window(height: int, width: int, resize_to: int | Sequence[int],
                crop: Sequence[int]) -> tuple[float, float, float, float]:
    """(top, left, bottom, right), in the original's pixels, of what torchvision's ``Resize(resize_to)`` then
    ``CenterCrop(crop)`` keep: an int resizes the short side (the long one truncated), a pair both sides;
    a crop larger than the resized image keeps all of that side (the rest is padding).

    >>> crop_window(300, 4000, 336, (336, 336))  # 300 x 4480 after the resize: the middle 336 columns
    (0.0, 1850.0, 300.0, 2150.0)
    """
    if isinstance(resize_to, int) or len(resize_to) == 1:
        size = resize_to if isinstance(resize_to, int) else resize_to[0]
        if height <= width:
            new_h, new_w = size, int(size * width / height)
        else:
            new_h, new_w = int(size * height / width), size
    else:
        new_h, new_w = resize_to
    th, tw = crop

    def span(length: int, new: int, kept: int) -> tuple[float, float]:
        if kept >= new:
            return 0.0, float(length)
        start = int(round((new - kept) / 2.0))
        return start * length / new, (start + kept) * length / new

    (top, bottom), (left, right) = span(height, new_h, th), span(width, new_w, tw)
    return top, left, bottom, right


@register_tokenizer
class VitTokenizer(ImageTokenizer):
    family = "vit"
    description = "patch tokens of a timm ViT encoder at its pretrained input size (resize + center crop)"
    Config = VitConfig
    argument = "model"
    requires = ("torch", "numpy", "PIL", "timm")
    install_hint = "pip install timm torch pillow"

    def __init__(self, config: VitConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        import torch
        from timm.data import create_transform, resolve_model_data_config

        check_positive(self.family, img_size=config.img_size)
        model = _create_on_meta(config.model, config.img_size)
        embed = getattr(model, "patch_embed", None)
        if embed is None:
            raise ConfigError(f"timm model {config.model!r} has no patch_embed: not a ViT-family model; "
                              "try e.g. vit_base_patch16_224")
        self.encoder_params = sum(p.numel() for p in model.parameters())
        self.prefix_tokens = int(getattr(model, "num_prefix_tokens", 0))
        data_config = dict(resolve_model_data_config(model))
        if config.img_size is not None:
            data_config["input_size"] = (3, config.img_size, config.img_size)
        if config.crop_mode is not None:
            if config.crop_mode not in CROP_MODES:
                raise ConfigError(f"vit: crop_mode {config.crop_mode!r} is not one of: {', '.join(CROP_MODES)}")
            data_config["crop_mode"] = config.crop_mode
        self.data_config = data_config
        self.input_size: tuple[int, int] = tuple(data_config["input_size"][1:])  # type: ignore[assignment]
        self.transform = create_transform(**data_config, is_training=False)
        # The shape of the output, from the meta copy: no arithmetic of ours to drift from timm's.
        meta_embed = copy.deepcopy(embed)
        self.patch_tokens = _tokens_out(meta_embed(torch.empty(1, 3, *self.input_size, device="meta")), meta_embed)
        self.embed = embed.to_empty(device=self.device).eval()
        with torch.no_grad():
            for p in self.embed.parameters():
                p.zero_()  # only the output's shape matters; zeros keep runs deterministic
        del model

    def count_for_shape(self, height: int, width: int) -> TokenCount:
        """Every image is resized and cropped to the model's input size: N does not depend on the shape."""
        if height <= 0 or width <= 0:
            raise SampleError(f"image of {height}x{width} pixels has no area")
        h, w = self.input_size
        counts = {"prefix_tokens": self.prefix_tokens, "prompt_tokens": self.patch_tokens,
                  **self.coverage(height, width)}
        return TokenCount(tokens=self.patch_tokens, input_bytes=h * w * 3, counts=counts)

    def count_decoded(self, batch: "torch.Tensor") -> list[TokenCount]:
        trimmed, x = self.model_input(batch)
        out = self.embed(x)
        tokens = _tokens_out(out, self.embed)
        h, w = x.shape[-2:]
        counts = {"prefix_tokens": self.prefix_tokens, "prompt_tokens": tokens, **self.coverage(*batch.shape[-2:])}
        kept = self.fidelity(trimmed, x)
        return [TokenCount(tokens=tokens, input_bytes=h * w * 3, counts={**counts, **k}) for k in kept]

    def window(self, height: int, width: int) -> tuple[float, float, float, float] | None:
        """(top, left, bottom, right) of the original that the model's input shows; None for a transform
        other than a resize and a center crop (timm's crop_mode "border"), whose view is not reported."""
        from torchvision.transforms import CenterCrop, Resize

        steps = getattr(self.transform, "transforms", [])
        resizes = [t for t in steps if isinstance(t, Resize)]
        crops = [t for t in steps if isinstance(t, CenterCrop)]
        if len(resizes) != 1 or len(crops) != 1:
            return None
        return crop_window(height, width, resizes[0].size, crops[0].size)

    def coverage(self, height: int, width: int) -> dict[str, float]:
        """``input_coverage``: the share of the original's pixels inside the center crop (1 when squashed)."""
        box = self.window(height, width)
        if box is None:
            return {}
        top, left, bottom, right = box
        return {"input_coverage": (bottom - top) * (right - left) / (height * width)}

    def fidelity(self, batch: "torch.Tensor", x: "torch.Tensor") -> list[dict[str, float]]:
        """PSNR and SSIM of the window of ``batch`` (in [0, 1]) against the transformed ``x`` resized back to it,
        the window's edges rounded to whole pixels (empty dicts when there is no window)."""
        import torch

        box = self.window(*batch.shape[-2:])
        if box is None:
            return [{} for _ in range(batch.shape[0])]
        top, left, bottom, right = (round(v) for v in box)
        mean = torch.tensor(self.data_config["mean"], device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.data_config["std"], device=x.device).view(1, -1, 1, 1)
        view = x * std + mean  # the model's input before normalisation, in [0, 1]
        return self.round_trip(batch[..., top:max(bottom, top + 1), left:max(right, left + 1)], view)

    def model_input(self, batch: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        """(the batch as transformed, trimmed, the transformed batch): what :meth:`patch_grid_of` and
        :meth:`fidelity` take."""
        trimmed = self._trim(batch)
        return trimmed, self.transform(trimmed)

    def patch_grid(self, batch: "torch.Tensor") -> "torch.Tensor":
        """A (B, 3, H, W) batch in [0, 1] through the eval transform and the patch embedding, as a
        (B, C, rows, columns) grid of patch tokens (for pooling them, as video models do per frame)."""
        return self.patch_grid_of(self.model_input(batch)[1])

    def patch_grid_of(self, x: "torch.Tensor") -> "torch.Tensor":
        """:meth:`patch_grid` of an already transformed batch."""
        out = self.embed(x)
        if out.ndim == 4:
            fmt = getattr(getattr(self.embed, "output_fmt", None), "value", "NCHW")
            return out.permute(0, 3, 1, 2) if fmt == "NHWC" else out
        rows, cols = self.embed.grid_size  # a flattened (B, N, C) output: timm's grid is fixed at build time
        if rows * cols != out.shape[1]:
            raise SampleError(f"{self.name}: patch embedding gave {out.shape[1]} tokens, not its {rows}x{cols} grid")
        return out.transpose(1, 2).reshape(out.shape[0], out.shape[2], rows, cols)

    def _trim(self, x: "torch.Tensor") -> "torch.Tensor":
        """For an extreme aspect ratio, the middle of the long side that the center crop can reach.

        crop_mode "center" resizes the shorter side to input_size / crop_pct first: a 1 x 4000
        strip would become a 248 x 992,000 tensor to keep its middle 224 pixels. Only the middle,
        plus the bicubic kernel's reach, is kept (for aspect ratios over 4): the output's shape, so N, is
        unchanged; its pixels may move by a fraction of a pixel (the resize's rounding).
        """
        ih, iw = self.input_size
        if self.data_config.get("crop_mode") != "center" or ih != iw:
            return x
        h, w = x.shape[-2:]
        short, long = min(h, w), max(h, w)
        if long <= 4 * short:
            return x
        scale_size = math.floor(ih / (self.data_config.get("crop_pct") or 0.875))  # timm DEFAULT_CROP_PCT
        reach = 2 * math.ceil(max(1.0, short / scale_size)) + 1  # source pixels a bicubic tap can span
        keep = min(long, short + 2 * reach)
        keep += (long - keep) % 2  # an even trim keeps the centre on the same source pixel
        start = (long - keep) // 2
        return x[..., start:start + keep, :] if h > w else x[..., :, start:start + keep]

    def _definition(self) -> dict[str, Any]:
        """What timm's definition contributes to N (it may change between timm versions)."""
        import timm

        return {
            "timm": timm.__version__, "input_size": list(self.data_config["input_size"]),
            "crop_pct": self.data_config.get("crop_pct"), "crop_mode": self.data_config.get("crop_mode"),
            "interpolation": self.data_config.get("interpolation"), "patch_tokens": self.patch_tokens,
            "prefix_tokens": self.prefix_tokens, "encoder_params": self.encoder_params,
        }

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), **self._definition()}

    def fingerprint(self) -> str:
        definition = {k: v for k, v in self._definition().items() if k != "timm"}
        blob = json.dumps({"base": super().fingerprint(), "definition": definition}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()
