"""One `images` row from encoded bytes: every builder that publishes images goes through here, so
the id (sha256 of the bytes), the size fields and the initial privacy status mean the same thing
in every data set."""

from __future__ import annotations

import io as _io

from pipelines.core.context import Reject
from pipelines.core.io import sha256_hex
from schemas.core import SPLIT_SHARED

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
#: The one decompression-bomb rule of every builder: an image whose header declares more pixels
#: is dead-lettered (or quarantined) from its header, before any pixel is decoded. 40 MP is far
#: above any product photo or SIMMC screenshot and decodes in about 160 MB (RGBA).
MAX_PIXELS = 40_000_000


def too_large(width: int, height: int, limit: int = MAX_PIXELS) -> str | None:
    """The reason an image of this size is refused, or None."""
    if width * height > limit:
        return f"image too large: {width}x{height} = {width * height:,} pixels, above the {limit:,}-pixel limit (decompression-bomb rule)"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header, None when unreadable; `Reject` above `MAX_PIXELS`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(_io.BytesIO(data)) as im:
            size = im.size
    except Image.DecompressionBombError as exc:
        raise Reject(f"image too large (decompression-bomb rule): {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    why = too_large(*size)
    if why:
        raise Reject(why)
    return size


def image_size(data: bytes, decode: bool = False) -> tuple[int | None, int | None, str | None]:
    """(width, height, format); (None, None, None) when it cannot be read. With `decode`, every
    pixel is decoded too (a truncated file with an intact header is then unreadable), and an
    image above `MAX_PIXELS` raises `Reject` without being decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(_io.BytesIO(data)) as im:
            size = im.width, im.height, (im.format or "").lower() or None
            if decode:
                why = too_large(im.width, im.height)
                if why:
                    raise Reject(why)
                im.load()
            return size
    except Image.DecompressionBombError as exc:
        if decode:
            raise Reject(f"image too large (decompression-bomb rule): {exc}") from None
        return None, None, None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None, None, None


def image_row(
    data: bytes,
    source_key: str,
    uri: str | None,
    *,
    source: str = "file",
    embed: bool = True,
    size: tuple[int | None, int | None, str | None] | None = None,
    strict: bool = True,
) -> dict:
    """The row for `data`. `size` when the caller already knows it (a crop it encoded); `strict`
    rejects undecodable bytes (the privacy stage passes False: it quarantines them instead)."""
    width, height, fmt = size if size is not None else image_size(data, decode=strict)
    if strict and width is None:
        raise Reject("cannot decode image")
    return {
        "image_id": sha256_hex(data),
        "split": SPLIT_SHARED,
        "source_key": source_key,
        "uri": uri,
        "data": data if embed else None,
        "width": width,
        "height": height,
        "format": fmt,
        "source": source,
        "privacy_status": "unchecked",
        "privacy_audit": None,
    }
