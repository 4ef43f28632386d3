"""Turning whatever the user gave us (bytes, a path, a URL) into a safe RGB picture.

Every photo passes through here, so the limits live here: size in bytes, size in pixels (decompression
bombs), allowed formats, EXIF orientation, colour modes. Failures are `InvalidImageError` with a reason the
bot can translate into a friendly message.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import FetchError, InvalidImageError

ImageSource = bytes | Path | str
"""Raw bytes, a filesystem path, or an http(s) URL."""

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "MPO"})
ALLOWED_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/jpg"})
# The pixel check happens on the header, before decoding; PIL's own guard (Image.MAX_IMAGE_PIXELS, left at
# its default: an error past ~179 Mpx) is a second line of defence for limits configured above it.


@dataclass(frozen=True)
class LoadedImage:
    """A decoded, upright RGB photo and what we learnt about the original."""

    image: Image.Image
    format: str
    width: int
    height: int
    byte_size: int


def is_url(source: ImageSource) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def open_image(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[Image.Image, str]:
    """Open a photo lazily (its header only) and check our limits on it; returns the image and its format.

    Raises InvalidImageError with its reason: empty, too_large, not_image, too_many_pixels, corrupt,
    unsupported_format. A file that passes can still turn out truncated when its pixels are decoded.
    """
    if not data:
        raise InvalidImageError("empty", "0 bytes")
    if len(data) > max_bytes:
        raise InvalidImageError("too_large", f"{len(data)} bytes > {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise InvalidImageError("not_image", "unrecognised file") from exc
    except Image.DecompressionBombError as exc:
        raise InvalidImageError("too_many_pixels", str(exc)) from exc
    except Exception as exc:  # PIL raises many types for garbage headers
        raise InvalidImageError("corrupt", str(exc)) from exc
    fmt = (img.format or "").upper()
    if fmt not in ALLOWED_FORMATS:
        raise InvalidImageError("unsupported_format", fmt or "unknown")
    width, height = img.size
    if width * height > max_pixels:
        raise InvalidImageError("too_many_pixels", f"{width}x{height}")
    return img, fmt


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> LoadedImage:
    """Decode bytes into an upright RGB image, enforcing our limits.

    Animated GIFs yield their first frame; transparency is flattened onto white; CMYK and palette images
    are converted; EXIF orientation is applied so that a phone photo is not captioned sideways.
    """
    img, fmt = open_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    try:
        img.seek(0)
        img.load()
        rgb = _to_rgb(ImageOps.exif_transpose(img))
    except InvalidImageError:
        raise
    except Exception as exc:  # truncated or inconsistent data
        raise InvalidImageError("corrupt", str(exc)) from exc
    return LoadedImage(rgb, "JPEG" if fmt == "MPO" else fmt, rgb.width, rgb.height, len(data))


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


async def fetch_image_bytes(
    url: str,
    *,
    max_bytes: int,
    timeout_s: float,
    max_redirects: int = 3,
    client: httpx.AsyncClient | None = None,
) -> bytes:
    """Download a photo, refusing non-images and anything larger than `max_bytes`.

    The body is streamed so that a huge file is cut off early instead of filling memory.
    """
    own_client = client is None
    client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=True, max_redirects=max_redirects)
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise FetchError(f"HTTP {response.status_code} for photo URL")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in ALLOWED_CONTENT_TYPES:
                raise InvalidImageError("not_image", f"content type {content_type or 'missing'}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise InvalidImageError("too_large", f"{declared} bytes > {max_bytes}")
            chunks: list[bytes] = []
            received = 0
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise InvalidImageError("too_large", f"more than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TooManyRedirects as exc:
        raise FetchError("too many redirects") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__} while fetching photo") from exc
    finally:
        if own_client:
            await client.aclose()


async def read_source(source: ImageSource, *, max_bytes: int, timeout_s: float, max_redirects: int = 3) -> bytes:
    """Return the raw bytes of a photo given as bytes, a path or a URL."""
    if isinstance(source, bytes):
        return source
    if is_url(source):
        return await fetch_image_bytes(
            str(source), max_bytes=max_bytes, timeout_s=timeout_s, max_redirects=max_redirects
        )
    return await asyncio.to_thread(_read_file, Path(source), max_bytes)


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InvalidImageError("too_large", f"{size} bytes > {max_bytes}")
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise FetchError(f"cannot read {path.name}: {type(exc).__name__}") from exc
