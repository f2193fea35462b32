"""Decoding image samples with Pillow: upright RGB at native resolution; T = H x W x 3.

The payload every image adapter consumes is a C-contiguous ``uint8`` numpy array
of shape (H, W, 3): RGB, EXIF orientation applied. Grayscale, palette and alpha
images are converted to RGB (alpha is dropped, as ``Image.convert("RGB")`` does),
so T counts 3 channels whatever the file stored. Animated files give their first
frame (``meta["frames"]`` says how many there were).

The header's pixel count is checked before any pixel is decoded: a file that
claims more than ``max_pixels`` is refused without allocating its pixels.

>>> import io
>>> from PIL import Image
>>> buf = io.BytesIO()
>>> Image.new("L", (4, 2)).save(buf, format="PNG")
>>> d = decode_image(buf.getvalue())
>>> d.raw_bytes, d.payload.shape, d.meta["mode"]
(24, (2, 4, 3), 'L')
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from compressbench.core.errors import SampleError, first_line
from compressbench.data.decoded import Decoded

# Pillow's own decompression-bomb error threshold (2 x Image.MAX_IMAGE_PIXELS = 2 x 89,478,485):
# about a 13,377 x 13,377 image, 537 MB as RGB. Larger legitimate images need max_pixels raised.
DEFAULT_MAX_PIXELS = 178_956_970


@contextmanager
def _opened(data: bytes | BinaryIO) -> Iterator[Any]:
    """Pillow's Image.open on the bytes (or an open binary file: Pillow reads only what it needs), with our errors; Pillow's own global pixel limit is lifted meanwhile.

    Pillow would refuse (or warn about) large images before ``max_pixels`` is consulted; its global
    setting is restored afterwards.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise SampleError("empty file (0 bytes): not an image")
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
            yield im
    except UnidentifiedImageError:
        raise SampleError("not an image Pillow can read (unknown format or corrupt header)") from None
    except SampleError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise SampleError(f"corrupt or truncated image: {first_line(exc)}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """Decode an image file's bytes to an upright RGB array; every failure is a one-line SampleError."""
    import numpy as np
    from PIL import ImageOps

    with _opened(data) as im:
        _within_limit(im, max_pixels)  # from the header: nothing decoded yet
        mode, fmt, frames = im.mode, im.format, getattr(im, "n_frames", 1)
        im.load()
        upright = ImageOps.exif_transpose(im)
        rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
        pixels = np.array(rgb, dtype=np.uint8)  # a writable copy: torch.from_numpy needs one
    h, w = pixels.shape[:2]
    return Decoded(payload=pixels, raw_bytes=h * w * 3, meta=_meta(w, h, mode, fmt, frames))


def probe_image(data: bytes | BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """The upright size and T from the header alone, for --count-only: no pixel is decoded (payload None).
    ``data`` may be an open binary file, of which only the header is read.

    Same meta and the same refusals as :func:`decode_image`, so count-only and measured runs agree,
    except on a file cut after its header: it is counted, since only decoding its pixels finds the damage.
    EXIF orientations 5 to 8 turn the image by 90 degrees, so they swap the stored sides. An EXIF
    block stored after a PNG's pixel data (allowed, rare) is not seen without decoding.
    """
    from PIL import Image

    with _opened(data) as im:
        width, height = _within_limit(im, max_pixels)
        if "exif" in im.info:  # the EXIF block the header carried; getexif() may decode a PNG's pixels
            exif = Image.Exif()
            exif.load(im.info["exif"])
        else:
            exif = im.getexif() if im.format in ("TIFF", "MPO") else {}  # TIFF tags are header data
        if exif.get(0x0112, 1) in (5, 6, 7, 8):  # EXIF Orientation: a quarter turn
            width, height = height, width
        meta = _meta(width, height, im.mode, im.format, getattr(im, "n_frames", 1))
    return Decoded(payload=None, raw_bytes=height * width * 3, meta=meta)


def _within_limit(im: Any, max_pixels: int) -> tuple[int, int]:
    """The header's (width, height), refused when over ``max_pixels``."""
    width, height = im.size
    if width * height > max_pixels:
        raise SampleError(
            f"image header claims {width}x{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} (max_pixels); raise max_pixels to decode it"
        )
    return width, height


def _meta(width: int, height: int, mode: str, fmt: str | None, frames: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"width": width, "height": height, "mode": mode, "format": fmt}
    if frames > 1:
        meta["frames"] = frames
    return meta
