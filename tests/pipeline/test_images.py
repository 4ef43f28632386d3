"""decode_image: the limits every photo passes through (formats, sizes, bombs, colour modes, orientation)."""

from __future__ import annotations

import io
import resource
import struct
import zlib
from pathlib import Path

import pytest
from PIL import GifImagePlugin, Image, ImageFile

from pipeline.errors import InvalidImageError
from pipeline.images import decode_image

MAX_BYTES = 5_000_000
MAX_PIXELS = 50_000_000
PHOTO = Path(__file__).parents[1] / "data" / "mountain.jpg"


def decode(data: bytes, **limits: int) -> Image.Image:
    limits = {"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS} | limits
    return decode_image(data, **limits).image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def rgb_at(image: Image.Image, xy: tuple[int, int]) -> tuple[float, ...]:
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple), pixel
    return pixel


def reason_of(data: bytes, **limits: int) -> str:
    with pytest.raises(InvalidImageError) as info:
        decode(data, **limits)
    return info.value.reason


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height black pixels, built row block by row block in little memory.

    Decoded it would need width*height bytes (900 MB for 30000x30000); compressed it is a few hundred KB.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    block_rows = 1000
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * min(block_rows, height - y)) for y in range(0, height, block_rows)]
    idat = b"".join(parts) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --- refused ----------------------------------------------------------------------------------------------


def test_empty() -> None:
    assert reason_of(b"") == "empty"


def test_text_file_named_jpg(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("these are not the pixels you are looking for\n" * 20)
    assert reason_of(fake.read_bytes()) == "not_image"


def test_truncated_jpeg() -> None:
    data = PHOTO.read_bytes()
    assert reason_of(data[: len(data) // 2]) == "corrupt"


def test_too_many_bytes() -> None:
    assert reason_of(PHOTO.read_bytes(), max_bytes=1000) == "too_large"


@pytest.mark.parametrize("fmt", ["TIFF", "BMP"])
def test_unsupported_formats(fmt: str) -> None:
    assert reason_of(encode(Image.new("RGB", (40, 30), "red"), fmt)) == "unsupported_format"


@pytest.mark.parametrize(
    ("size", "guard"),
    [
        ((10_000, 8_000), "ours"),  # 80 Mpx: over our 50 Mpx limit, under PIL's own error threshold
        ((30_000, 30_000), "PIL's"),  # 900 Mpx: PIL refuses it while reading the header
    ],
)
def test_decompression_bomb_is_refused_from_its_header(
    size: tuple[int, int], guard: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = png_bomb(*size)
    assert len(bomb) < 1_000_000
    if guard == "ours":
        assert Image.open(io.BytesIO(bomb)).size == size  # a valid header, not garbage
    else:
        with pytest.raises(Image.DecompressionBombError):
            Image.open(io.BytesIO(bomb))

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the pixels must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert reason_of(bomb) == "too_many_pixels"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 50_000  # KiB


def test_bomb_builder_makes_real_pngs() -> None:
    image = decode(png_bomb(300, 200))
    assert image.size == (300, 200) and image.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_small_limit_applies_to_ordinary_photos() -> None:
    assert reason_of(PHOTO.read_bytes(), max_pixels=1024 * 767) == "too_many_pixels"


# --- accepted, normalised to upright RGB -------------------------------------------------------------------


def test_photo_decodes_to_rgb() -> None:
    loaded = decode_image(PHOTO.read_bytes(), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    assert (loaded.format, loaded.image.mode, loaded.image.size) == ("JPEG", "RGB", (1024, 768))
    assert (loaded.width, loaded.height, loaded.byte_size) == (1024, 768, PHOTO.stat().st_size)


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "blue", "green")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    gif = Image.open(io.BytesIO(data))
    assert isinstance(gif, GifImagePlugin.GifImageFile) and gif.n_frames == 3
    image = decode(data)
    assert image.mode == "RGB" and image.getpixel((20, 15)) == (255, 0, 0)


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG", quality=95)  # red in CMYK
    image = decode(data)
    red, green, blue = rgb_at(image, (20, 15))
    assert image.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_transparency_is_flattened_on_white() -> None:
    rgba = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 20, 30))
    image = decode(encode(rgba, "PNG"))
    assert image.mode == "RGB"
    assert image.getpixel((5, 5)) == (0, 0, 255)
    assert image.getpixel((35, 5)) == (255, 255, 255)


def test_palette_transparency_is_flattened_on_white() -> None:
    palette = Image.new("P", (40, 30), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (0, 0, 20, 30))
    image = decode(encode(palette, "PNG", transparency=0))
    assert image.getpixel((5, 5)) == (255, 0, 0) and image.getpixel((35, 5)) == (255, 255, 255)


def test_exif_orientation_is_applied() -> None:
    photo = Image.new("RGB", (60, 40), "white")
    photo.paste((255, 0, 0), (0, 0, 10, 10))  # a red mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    image = decode(encode(photo, "JPEG", exif=exif.tobytes(), quality=95))
    assert image.size == (40, 60)
    red, green, blue = rgb_at(image, (35, 5))  # the mark is now in the top-right corner
    assert red > 200 and green < 60 and blue < 60
