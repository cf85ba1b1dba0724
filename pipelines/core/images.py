"""One `images` row from encoded bytes: every builder that publishes images goes through here, so
the id (sha256 of the bytes), the size fields and the initial privacy status mean the same thing
in every data set."""

from __future__ import annotations

import io as _io

from pipelines.core.context import Reject
from pipelines.core.io import sha256_hex
from schemas.core import SPLIT_SHARED

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")


def image_size(data: bytes) -> tuple[int | None, int | None, str | None]:
    """(width, height, format) from the header; (None, None, None) when it cannot be decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(_io.BytesIO(data)) as im:
            return im.width, im.height, (im.format or "").lower() or None
    except (UnidentifiedImageError, OSError, ValueError):
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
    width, height, fmt = size if size is not None else image_size(data)
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
