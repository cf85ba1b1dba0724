"""Decode image bytes for OCR and encode masked pixels, with the limits that make decoding safe.

Fail closed on what OCR could not see: the decoder returns *every* picture a viewer can show from
the bytes, and says when the original bytes must not be published as they are.

- EXIF orientation is applied (pixel coordinates are those a viewer, and an annotator, sees);
- more than 8 bits per sample (16-bit PNG, `I;16`, `I`) is scaled to 8 bits, not clipped
  (Pillow's own conversion clips 16-bit values to 255: dark text on a 65535 background became a
  flat white image that skipped OCR);
- transparency: the image is composited on white (what most viewers show) *and* its colour
  channels are kept without alpha (what a viewer that drops alpha, or another background,
  shows): text under alpha 0 is still text. Both are checked, and the published image is the
  flattened composite (`canonical`), never the original with its hidden layer;
- animations (GIF, APNG, WebP): every frame, composited as a viewer plays it, up to
  `max_frames` (more: quarantined).
Masked images are re-encoded without metadata: JPEG stays JPEG, animations stay GIF, anything
else becomes PNG.
"""

from __future__ import annotations

import io as _io
from dataclasses import dataclass, field

import numpy as np


class DecodeError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Decoded:
    bgr: np.ndarray  # the first frame as a viewer shows it (8-bit BGR)
    format: str  # jpeg, png, gif, ...
    transposed: bool  # EXIF orientation was applied (pixel grid differs from the stored one)
    frames: list[np.ndarray] = field(default_factory=list)  # every frame (frames[0] is bgr)
    hidden: list[np.ndarray] = field(default_factory=list)  # colour channels under transparency, per frame
    durations: list[int] = field(default_factory=list)  # ms per frame (animations)
    canonical: bool = False  # the original bytes hold more than `frames` shows: publish re-encoded frames

    @property
    def animated(self) -> bool:
        return len(self.frames) > 1

    def views(self) -> list[tuple[int, np.ndarray]]:
        """(frame index, picture) for everything that must be checked: each frame, and the colour
        channels under its transparency."""
        out = [(i, f) for i, f in enumerate(self.frames)]
        out += [(i, h) for i, h in enumerate(self.hidden) if h is not None]
        return out


HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _to_rgb8(frame) -> tuple[np.ndarray, np.ndarray | None]:
    """(8-bit RGB as composited on white, 8-bit RGB of the colour channels when alpha hides any)."""
    from PIL import Image

    if frame.mode in HIGH_DEPTH:
        a = np.asarray(frame).astype(np.float64)
        peak = 65535.0 if a.max() > 255 or frame.mode.startswith("I;16") else 255.0
        g = np.clip(np.round(a * 255.0 / peak), 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2), None
    if frame.mode == "F":
        a = np.asarray(frame).astype(np.float64)
        hi = 1.0 if a.max() <= 1.0 else 255.0
        g = np.clip(np.round(a * 255.0 / hi), 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2), None
    has_alpha = frame.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (frame.mode == "P" and "transparency" in frame.info)
    if not has_alpha:
        return np.asarray(frame.convert("RGB")), None
    rgba = frame.convert("RGBA")
    alpha = np.asarray(rgba)[:, :, 3]
    bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    shown = np.asarray(Image.alpha_composite(bg, rgba).convert("RGB"))
    if int(alpha.min()) == 255:
        return shown, None
    raw = np.ascontiguousarray(np.asarray(rgba)[:, :, :3])
    return shown, raw


def decode(data: bytes, max_pixels: int, max_frames: int = 16) -> Decoded:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(_io.BytesIO(data)) as im:
            fmt = (im.format or "").lower()
            w, h = im.size
            if w * h > max_pixels:
                raise DecodeError("too_large", f"{w}x{h} = {w * h} pixels > limits.max_pixels {max_pixels}")
            n = int(getattr(im, "n_frames", 1) or 1)
            if n > max_frames:
                raise DecodeError("too_large", f"{n} frames > limits.max_frames {max_frames}")
            transposed = _orientation(im) not in (None, 1)
            frames, hidden, durations = [], [], []
            canonical = im.mode in HIGH_DEPTH or im.mode == "F"
            for k in range(n):
                im.seek(k)
                frame = ImageOps.exif_transpose(im) if k == 0 else im.copy()
                if n > 1 and frame.mode not in HIGH_DEPTH:
                    frame = frame.convert("RGBA")
                shown, raw = _to_rgb8(frame)
                frames.append(np.ascontiguousarray(shown[:, :, ::-1]))
                hidden.append(None if raw is None else np.ascontiguousarray(raw[:, :, ::-1]))
                durations.append(int(im.info.get("duration", 100) or 100))
                canonical = canonical or raw is not None
    except DecodeError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise DecodeError("undecodable", f"{type(exc).__name__}: {exc}") from exc
    if not frames or frames[0].ndim != 3 or frames[0].shape[0] == 0 or frames[0].shape[1] == 0:
        raise DecodeError("undecodable", "empty image")
    if n > 1 and any(f.shape != frames[0].shape for f in frames):
        raise DecodeError("undecodable", "animation frames of different sizes")
    return Decoded(frames[0], fmt, transposed, frames, hidden, durations, canonical)


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


def encode_animation(frames_bgr: list[np.ndarray], durations: list[int]) -> tuple[bytes, str]:
    """An animated GIF of the (masked) frames, no metadata."""
    from PIL import Image

    ims = [Image.fromarray(np.ascontiguousarray(f[:, :, ::-1])) for f in frames_bgr]
    buf = _io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=durations, loop=0, disposal=1, optimize=False)
    return buf.getvalue(), "gif"
