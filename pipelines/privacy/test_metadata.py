"""No published image carries metadata (EXIF incl. GPS, XMP, IPTC, ICC, PNG text chunks, comments,
WebP EXIF/XMP), whatever its status, and images are checked and published as a viewer shows them
(EXIF orientation applied)."""

from __future__ import annotations

import io as _io
import os

import numpy as np
import pytest

from pipelines.privacy import audit as au
from pipelines.privacy import manual, metadata
from pipelines.privacy.codec import decode
from pipelines.privacy.engines import FakeEngine
from pipelines.privacy.policy import load_config
from pipelines.privacy.stage import PrivacyMasker
from pipelines.privacy.test_fail_closed import FONT, PII_LINE, text_gray

SECRETS = ("13998761234", "Zhang Wei Secret", "GPSSECRET", "xmp-secret-88")
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<dc:description>xmp-secret-88 13998761234</dc:description></x:xmpmeta><?xpacket end="w"?>'
)


def _exif():
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = "call 13998761234"  # ImageDescription
    exif[0x013B] = "Zhang Wei Secret"  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[27] = "N", (30.0, 15.0, 7.0), "GPSSECRET"  # latitude ref, latitude, processing method
    return exif


def _icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _picture():
    from PIL import Image

    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(60, 200, (48, 96, 3), dtype=np.uint8))


def jpeg_exif_xmp() -> bytes:
    buf = _io.BytesIO()
    _picture().save(buf, "JPEG", exif=_exif(), xmp=XMP, icc_profile=_icc(), comment=b"Zhang Wei Secret", quality=90)
    return buf.getvalue()


def png_text_chunks() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Description", "call 13998761234")
    info.add_itxt("Author", "Zhang Wei Secret", lang="en")
    info.add_text("Comment", "GPSSECRET " * 20, zip=True)  # zTXt
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buf = _io.BytesIO()
    _picture().save(buf, "PNG", pnginfo=info, exif=_exif())
    return buf.getvalue()


def webp_exif_xmp() -> bytes:
    buf = _io.BytesIO()
    _picture().save(buf, "WEBP", exif=_exif(), xmp=XMP, icc_profile=_icc(), quality=90)
    return buf.getvalue()


def gif_comment() -> bytes:
    buf = _io.BytesIO()
    _picture().convert("P").save(buf, "GIF", comment=b"call 13998761234 Zhang Wei Secret")
    return buf.getvalue()


CARRIERS = {"jpeg": jpeg_exif_xmp, "png": png_text_chunks, "webp": webp_exif_xmp, "gif": gif_comment}


def assert_clean(data: bytes, kind: str):
    assert metadata.carried(data) == [], kind
    low = data.lower()
    for s in SECRETS:
        assert s.lower().encode() not in low, (kind, s)
    assert b"exif\x00" not in low and b"xmpmeta" not in low and b"acsp" not in low, kind  # acsp: ICC signature


def masker(lines=None) -> PrivacyMasker:
    eng = FakeEngine(default=lines or [])
    return PrivacyMasker(load_config(overrides=["engine.name=fake", "masking.fill=[0,0,0]"]), engine_factory=lambda: eng)


@pytest.mark.parametrize("kind", sorted(CARRIERS))
def test_inputs_really_carry_metadata(kind):
    data = CARRIERS[kind]()
    assert metadata.carried(data), kind
    assert any(s.encode() in data for s in SECRETS) or kind == "png", kind  # zTXt/iTXt may compress


@pytest.mark.parametrize("kind", sorted(CARRIERS))
@pytest.mark.parametrize("lines", ["none", "pii"])
def test_no_published_image_carries_metadata(kind, lines):
    """Unchecked (no OCR line: the original pixels) and masked (a phone on it) alike."""
    data = CARRIERS[kind]()
    out = masker([] if lines == "none" else [PII_LINE]).mask({"image_id": "a" * 64, "source_key": kind, "data": data})
    assert out.status == ("unchecked" if lines == "none" else "masked")
    assert_clean(out.image["data"], kind)
    rec = au.loads(out.image["privacy_audit"])
    assert rec["metadata"]["removed"] and rec["metadata"]["published"] == []
    # lossless where the container allows it: the same pixels
    if lines == "none" and kind in ("png", "webp"):
        assert np.array_equal(decode(out.image["data"], 10**8).bgr, decode(data, 10**8).bgr)


def test_manual_clean_decision_publishes_no_metadata():
    """`mask-manual` marking an image clean (a released quarantine's original bytes) scrubs it too."""
    for kind, make in CARRIERS.items():
        row = {"image_id": "b" * 64, "data": make(), "privacy_status": "unchecked", "privacy_audit": au.dumps({})}
        d = manual.parse_line('{"image_id": "' + "b" * 64 + '", "status": "clean", "boxes": []}')
        out = manual.apply(row, d)
        assert out["privacy_status"] == "clean"
        assert_clean(out["data"], kind)
        assert au.loads(out["privacy_audit"])["metadata"]["removed"]


def test_verified_claim_with_metadata_is_checked_again():
    m = masker()
    first = m.mask({"image_id": "c" * 64, "data": jpeg_exif_xmp()}).image
    from pipelines.privacy.stage import sha256_hex

    claimed = {**first, "data": jpeg_exif_xmp(), "privacy_status": "clean"}
    claimed["privacy_audit"] = au.dumps({**au.loads(first["privacy_audit"]), "output_sha256": sha256_hex(claimed["data"])})
    out = m.mask(claimed)
    assert out.status != "passthrough"
    assert_clean(out.image["data"], "claimed")


def test_jpeg_strip_is_lossless_and_keeps_decodable_bytes():
    data = jpeg_exif_xmp()
    stripped = metadata.strip(data, "jpeg")
    assert stripped is not None and len(stripped) < len(data)
    assert np.array_equal(decode(stripped, 10**8).bgr, decode(data, 10**8).bgr)


def rotated_phone_jpeg() -> bytes:
    """A phone number stored upside down with EXIF orientation 3: a viewer shows it upright."""
    from PIL import Image

    upright = Image.fromarray(text_gray(w=320, h=64)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 3
    buf = _io.BytesIO()
    upright.rotate(180).save(buf, "JPEG", exif=exif, quality=95)
    return buf.getvalue()


def viewer_picture(data: bytes):
    from PIL import Image, ImageOps

    im = ImageOps.exif_transpose(Image.open(_io.BytesIO(data))).convert("RGB")
    return np.ascontiguousarray(np.asarray(im)[:, :, ::-1])


def test_exif_rotated_image_is_published_as_a_viewer_shows_it():
    """Fake OCR: the decision is made on the upright picture and the published one is upright too."""
    data = rotated_phone_jpeg()
    out = masker([PII_LINE]).mask({"image_id": "d" * 64, "data": data})
    published = out.image["data"]
    assert metadata.carried(published) == []
    assert viewer_picture(published).shape == viewer_picture(data).shape
    # the mask sits where the viewer sees the number (upper left of the upright picture)
    shown = viewer_picture(published)
    assert shown[20:40, 60:240].max() < 10  # filled black where PII_LINE's digits lie


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(FONT), reason="fonts-noto-cjk not installed")
def test_exif_rotated_phone_is_masked_with_real_ocr():
    m = PrivacyMasker(load_config())
    data = rotated_phone_jpeg()
    assert any("13812345678" in ln.text.replace(" ", "") for ln in m.ocr(viewer_picture(data)))  # readable upright
    out = m.mask({"image_id": "e" * 64, "data": data})
    assert out.status == "masked" and any("phone" in mk.entities for mk in out.masks)
    shown = viewer_picture(out.image["data"])
    for pic in (shown, shown[::-1, ::-1]):  # as a viewer shows it, and turned round
        assert not any("13812345678" in ln.text.replace(" ", "") for ln in m.ocr(np.ascontiguousarray(pic)))
