"""Remove every piece of metadata from published image bytes, whatever the image's status.

A reviewer who looks at a picture cannot see its metadata: EXIF (ImageDescription, Artist, GPS),
XMP packets, IPTC (Photoshop APP13), ICC profile descriptions, PNG text chunks (tEXt/iTXt/zTXt),
eXIf chunks, JPEG and GIF comments, WebP EXIF/XMP chunks. So no published image carries any.

Lossless where the container allows it (JPEG segments, PNG chunks and WebP RIFF chunks are
filtered against an *allow-list* of what decoding needs: anything unknown goes); every other
format, and any image whose EXIF orientation differs from the stored pixel grid, is re-encoded
from the checked pixels by the caller (`stage.py`). `carried` reads bytes back and names what
metadata they still hold, so the publish step can verify its own output (fail closed).
"""

from __future__ import annotations

import io as _io
import struct

# JPEG: keep frame/table/scan markers; APP0 only as a bare JFIF header (no thumbnail), APP14
# "Adobe" (colour transform needed to decode CMYK/YCCK). APP1 (EXIF, XMP), APP2 (ICC, FlashPix),
# APP13 (IPTC), other APPn and COM are dropped.
_JPEG_DROP = set(range(0xE1, 0xF0)) - {0xEE} | {0xFE}
# PNG: what a decoder needs to show the picture as the viewer did (APNG frames included).
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT"}
# WebP RIFF chunks that carry pixels or animation; ICCP, EXIF, XMP and unknown chunks go.
_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}
_WEBP_META_FLAGS = 0x20 | 0x08 | 0x04  # VP8X: ICC, EXIF, XMP present

PIL_META_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop", "iptc", "extension")


def strip(data: bytes, fmt: str) -> bytes | None:
    """The same picture without metadata, losslessly; None when the format needs a re-encode."""
    fmt = (fmt or "").lower()
    try:
        if fmt in ("jpeg", "jpg", "mpo"):
            return _strip_jpeg(data)
        if fmt == "png":
            return _strip_png(data)
        if fmt == "webp":
            return _strip_webp(data)
    except (ValueError, IndexError, struct.error):
        return None
    return None


def _strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("no SOI")
    out = bytearray(b"\xff\xd8")
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError("marker expected")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: entropy data and later scans up to the last EOI
            end = data.rfind(b"\xff\xd9")
            if end < i:
                raise ValueError("no EOI")
            out += data[i : end + 2]
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[i : i + 2]
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        seg = data[i : i + 2 + length]
        keep = marker not in _JPEG_DROP
        if marker == 0xE0:  # JFIF/JFXX: a bare header only (thumbnails are pictures too)
            keep = seg[4:9] == b"JFIF\x00" and length == 16
        if marker == 0xEE:
            keep = seg[4:9] == b"Adobe"
        if keep:
            out += seg
        i += 2 + length
    raise ValueError("no scan")


def _strip_png(data: bytes) -> bytes:
    sig = b"\x89PNG\r\n\x1a\n"
    if data[:8] != sig:
        raise ValueError("no PNG signature")
    out = bytearray(sig)
    i = 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        ctype = data[i + 4 : i + 8]
        if ctype in _PNG_KEEP:
            out += data[i : i + 12 + length]
        i += 12 + length
        if ctype == b"IEND":
            return bytes(out)
    raise ValueError("no IEND")


def _strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("no RIFF/WEBP header")
    body = bytearray()
    i = 12
    while i + 8 <= len(data):
        ctype = data[i : i + 4]
        (length,) = struct.unpack("<I", data[i + 4 : i + 8])
        chunk = bytearray(data[i : i + 8 + length + (length & 1)])
        if ctype == b"VP8X":
            chunk[8] &= ~_WEBP_META_FLAGS & 0xFF
        if ctype in _WEBP_KEEP:
            body += chunk
        i += 8 + length + (length & 1)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + bytes(body)


def carried(data: bytes) -> list[str]:
    """Names of the metadata kinds the bytes still hold (empty: nothing). Unreadable -> ["unreadable"]."""
    from PIL import Image

    try:
        with Image.open(_io.BytesIO(data)) as im:
            found = [k for k in PIL_META_KEYS if im.info.get(k) and not (k == "extension" and _gif_loop(im.info[k]))]
            if getattr(im, "text", None):  # PNG tEXt/iTXt/zTXt (read to the end of the file)
                found.append("png_text")
            if len(im.getexif()):
                found.append("exif_tags")
            for marker, body in getattr(im, "applist", []):  # JPEG APPn segments
                if marker not in ("APP0", "APP14") or _app_with_payload(marker, body):
                    found.append(f"jpeg_{marker.lower()}")
    except Exception:  # noqa: BLE001 - cannot prove it clean
        return ["unreadable"]
    return sorted(set(found))


def _gif_loop(ext) -> bool:
    """GIF application extensions that only say how to loop an animation."""
    return isinstance(ext, tuple) and ext[0] in (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _app_with_payload(marker: str, body: bytes) -> bool:
    if marker == "APP0":
        return not (body[:5] == b"JFIF\x00" and len(body) == 14)
    return body[:5] != b"Adobe"


def scrub(data: bytes, jpeg_quality: int = 92, max_pixels: int = 40_000_000) -> tuple[bytes, str | None, list[str]]:
    """(bytes as a viewer shows them and without metadata, the new format or None when the format
    is unchanged, the metadata kinds removed). For publish steps that hold no decoded picture
    (`mask-manual` marking an image clean)."""
    from pipelines.privacy.codec import decode, encode, encode_animation

    removed = carried(data)
    if not removed:
        return data, None, []
    dec = decode(data, max_pixels)
    out = None if (dec.transposed or dec.canonical) else strip(data, dec.format)
    if out is None or carried(out):
        if dec.animated:
            out, fmt = encode_animation(dec.frames, dec.durations)
        else:
            out, fmt = encode(dec.bgr, dec.format, jpeg_quality)
        return out, fmt, removed
    return out, None, removed
