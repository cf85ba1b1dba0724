"""Decode image bytes for OCR and encode masked pixels, with the limits that make decoding safe.

Decoding goes through Pillow (JPEG, PNG, GIF, WebP, BMP, ...), applies the EXIF orientation (so
pixel coordinates are those a viewer, and an annotator, sees), keeps only the first frame of an
animation, and composites transparency on white. Masked images are re-encoded without metadata:
JPEG stays JPEG, everything else becomes PNG.
"""

from __future__ import annotations

import io as _io
from dataclasses import dataclass

import numpy as np


class DecodeError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Decoded:
    bgr: np.ndarray
    format: str  # jpeg, png, gif, ...
    transposed: bool  # EXIF orientation was applied (pixel grid differs from the stored one)


def decode(data: bytes, max_pixels: int) -> Decoded:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(_io.BytesIO(data)) as im:
            fmt = (im.format or "").lower()
            w, h = im.size
            if w * h > max_pixels:
                raise DecodeError("too_large", f"{w}x{h} = {w * h} pixels > limits.max_pixels {max_pixels}")
            im.seek(0)
            oriented = ImageOps.exif_transpose(im)
            transposed = _orientation(im) not in (None, 1)
            if oriented.mode in ("RGBA", "LA", "P", "PA"):
                rgba = oriented.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                oriented = Image.alpha_composite(bg, rgba)
            rgb = np.asarray(oriented.convert("RGB"))
    except DecodeError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DecodeError("undecodable", f"{type(exc).__name__}: {exc}") from exc
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise DecodeError("undecodable", f"empty image {rgb.shape}")
    return Decoded(np.ascontiguousarray(rgb[:, :, ::-1]), fmt, transposed)


def _orientation(im) -> int | None:
    try:
        return im.getexif().get(0x0112)
    except Exception:  # noqa: BLE001
        return None


def encode(bgr: np.ndarray, fmt: str, jpeg_quality: int) -> tuple[bytes, str]:
    """(bytes, format) with no metadata; JPEG stays JPEG, anything else becomes PNG."""
    import cv2

    if fmt in ("jpeg", "jpg"):
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        out_fmt = "jpeg"
    else:
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        out_fmt = "png"
    if not ok:
        raise RuntimeError(f"cannot encode a {bgr.shape} image as {out_fmt}")
    return buf.tobytes(), out_fmt
