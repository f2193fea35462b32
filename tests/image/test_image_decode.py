"""Image decoding: upright RGB at native resolution, T = H x W x 3, and one-line errors for bad files."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from compressbench.core.errors import SampleError
from compressbench.data.image import DEFAULT_MAX_PIXELS, decode_image, probe_image
from compressbench.data.modalities import decoder_for
from tests.conftest import FIXTURES

IMAGES = FIXTURES / "image"
# (height, width, original mode) upright, as fixtures/MEDIA.md lists them.
EXPECTED = {
    "astronaut_portrait_3x4.jpg": (512, 384, "RGB"),
    "camera_gray.png": (512, 512, "L"),
    "chelsea.png": (300, 451, "RGB"),
    "coffee_exif_orientation6.jpg": (300, 450, "RGB"),
    "coffee_wide_21x9.webp": (257, 600, "RGB"),
    "hubble_deep_field_1000.jpg": (872, 1000, "RGB"),
    "retina_rgba.png": (400, 400, "RGBA"),
    "rocket.webp": (427, 640, "RGB"),
    "rocket_strip_8x1.jpg": (80, 640, "RGB"),
}


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height RGB pixels, with a token IDAT: no such pixels exist."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_every_fixture_is_listed():
    assert sorted(p.name for p in IMAGES.iterdir()) == sorted(EXPECTED)


def test_the_registry_of_modalities_knows_images():
    assert decoder_for("image") is decode_image


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixtures_decode_to_rgb_at_native_size(name):
    decoded = decode_image((IMAGES / name).read_bytes())
    height, width, mode = EXPECTED[name]
    assert decoded.payload.shape == (height, width, 3) and decoded.payload.dtype == np.uint8
    assert decoded.raw_bytes == height * width * 3
    assert (decoded.meta["width"], decoded.meta["height"], decoded.meta["mode"]) == (width, height, mode)
    assert decoded.meta["format"] == {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[name.rsplit(".", 1)[1]]


def test_exif_orientation_is_applied():
    """Stored 300 wide x 450 high with Orientation=6: upright it is 450 wide x 300 high (landscape)."""
    path = IMAGES / "coffee_exif_orientation6.jpg"
    with Image.open(path) as stored:
        assert stored.size == (300, 450) and stored.getexif().get(0x0112) == 6
        rotated = np.asarray(stored.convert("RGB").transpose(Image.Transpose.ROTATE_270))
    decoded = decode_image(path.read_bytes())
    assert (decoded.meta["width"], decoded.meta["height"]) == (450, 300)
    assert np.array_equal(decoded.payload, rotated)


def test_grayscale_is_three_equal_channels():
    decoded = decode_image((IMAGES / "camera_gray.png").read_bytes())
    px = decoded.payload
    assert decoded.raw_bytes == 512 * 512 * 3
    assert np.array_equal(px[..., 0], px[..., 1]) and np.array_equal(px[..., 1], px[..., 2])


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "1", "I;16", "CMYK"])
def test_every_mode_counts_three_channels(mode):
    image = Image.new(mode, (7, 5))
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    decoded = decode_image(buf.getvalue())
    assert decoded.payload.shape == (5, 7, 3) and decoded.raw_bytes == 5 * 7 * 3
    assert decoded.meta["mode"] == mode


def bad(message: str, data: bytes, **options) -> str:
    with pytest.raises(SampleError, match=message) as info:
        decode_image(data, **options)
    text = str(info.value)
    assert "\n" not in text and text
    return text


def test_zero_length():
    bad("empty file", b"")


def test_truncated_jpeg():
    data = (IMAGES / "astronaut_portrait_3x4.jpg").read_bytes()
    bad("corrupt or truncated image", data[: len(data) // 2])


def test_corrupt_bytes_and_text_are_not_images():
    bad("not an image", bytes(range(256)) * 8)
    bad("not an image", b"this is a text file, not a PNG\n")


def test_corrupt_jpeg_body():
    data = bytearray((IMAGES / "rocket_strip_8x1.jpg").read_bytes())
    data[600:] = b"\xff" * (len(data) - 600)  # header kept, entropy-coded data destroyed
    bad("corrupt or truncated image", bytes(data))


def test_content_decides_not_the_name():
    """The decoder sees bytes only: a PNG named .jpg is a PNG (the CLI test checks the names)."""
    decoded = decode_image((IMAGES / "chelsea.png").read_bytes())
    assert decoded.meta["format"] == "PNG"


def test_a_header_claiming_ten_billion_pixels_is_refused_before_allocating():
    data = png_claiming(100_000, 100_000)
    with pytest.raises(Image.DecompressionBombError, match="10000000000 pixels"):  # Pillow reads the header
        Image.open(io.BytesIO(data))
    start = time.perf_counter()
    text = bad("header claims 100000x100000 = 10,000,000,000 pixels", data)
    assert time.perf_counter() - start < 0.5  # 30 GB were never decoded (nor could they be, here)
    assert f"{DEFAULT_MAX_PIXELS:,}" in text and "max_pixels" in text


def test_the_pixel_limit_is_an_option_and_pillow_does_not_override_it():
    data = (IMAGES / "chelsea.png").read_bytes()
    bad("over the limit of 1,000", data, max_pixels=1000)
    assert decode_image(data, max_pixels=300 * 451).raw_bytes == 300 * 451 * 3
    # above Pillow's own bomb limit, our option decides: the crafted header gets past the check and
    # then fails as the truncated file it is, not as a bomb
    bad("corrupt or truncated", png_claiming(20_000, 10_000), max_pixels=10**9)
    assert Image.MAX_IMAGE_PIXELS is not None  # Pillow's global setting is restored


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_probe_reads_what_decoding_gives_from_the_header(name):
    data = (IMAGES / name).read_bytes()
    probed, decoded = probe_image(data), decode_image(data)
    assert probed.payload is None
    assert (probed.raw_bytes, probed.meta) == (decoded.raw_bytes, decoded.meta)


def test_probe_needs_no_pixels_and_keeps_the_one_line_errors():
    assert probe_image(png_claiming(20_000, 10_000), max_pixels=10**9).meta["height"] == 10_000  # no pixel data
    for data, message in [(png_claiming(100_000, 100_000), "header claims 100000x100000"),
                          (b"", "empty file"), (b"plain text\n", "not an image")]:
        with pytest.raises(SampleError, match=message):
            probe_image(data)
