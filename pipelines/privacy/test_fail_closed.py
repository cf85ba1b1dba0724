"""Pictures OCR could not see must be checked or quarantined, never published unchecked: 16-bit
PNGs, animations whose PII is on a later frame, text under alpha 0. The published bytes are what
was checked, and rows that claim `masked`/`clean` are verified, not trusted."""

from __future__ import annotations

import io as _io
import json
import os

import numpy as np
import pytest

from pipelines.privacy.codec import decode
from pipelines.privacy.engines import FakeEngine
from pipelines.privacy.policy import load_config
from pipelines.privacy.stage import PrivacyMasker, sha256_hex

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
PII_LINE = {"text": "电话13812345678", "polygon": [[10, 14], [250, 14], [250, 44], [10, 44]], "score": 0.99}


def text_gray(w=300, h=60, ink=20, paper=255) -> np.ndarray:
    """An 8-bit grey picture with a dark phone number (drawn with the CJK font when present)."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (w, h), paper)
    d = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT, 24, index=2) if os.path.exists(FONT) else ImageFont.load_default()
    d.text((10, 14), "电话13812345678", font=font, fill=ink)
    return np.asarray(im)


def png16(gray8: np.ndarray) -> bytes:
    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(gray8.astype(np.uint16) * 257).save(buf, "PNG")  # dark text on 65535
    return buf.getvalue()


def gif_pii_on_frame_2(gray8: np.ndarray) -> bytes:
    from PIL import Image

    blank = Image.new("L", gray8.shape[::-1], 255).convert("P")
    text = Image.fromarray(gray8).convert("P")
    buf = _io.BytesIO()
    blank.save(buf, "GIF", save_all=True, append_images=[text], duration=[500, 500], loop=0)
    return buf.getvalue()


def rgba_text_under_alpha0(gray8: np.ndarray) -> bytes:
    from PIL import Image

    rgb = np.repeat(gray8[:, :, None], 3, axis=2)
    alpha = np.zeros(gray8.shape, np.uint8)  # fully transparent: a white-background viewer shows nothing
    buf = _io.BytesIO()
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(buf, "PNG")
    return buf.getvalue()


FAIL_OPEN = {"png16": png16, "gif_frame2": gif_pii_on_frame_2, "rgba_alpha0": rgba_text_under_alpha0}


def fake_masker() -> tuple[PrivacyMasker, FakeEngine]:
    """OCR reads the phone number on any picture that is not flat (flat pictures skip OCR)."""
    eng = FakeEngine(default=[PII_LINE])
    return PrivacyMasker(load_config(overrides=["engine.name=fake", "masking.fill=[0,0,0]"]), engine_factory=lambda: eng), eng


@pytest.mark.parametrize("kind", sorted(FAIL_OPEN))
def test_pictures_ocr_could_not_see_are_checked_and_masked(kind):
    data = FAIL_OPEN[kind](text_gray())
    masker, eng = fake_masker()
    out = masker.mask({"image_id": "a" * 64, "source_key": f"{kind}.img", "data": data})
    assert eng.calls >= 1  # the text-bearing picture reached OCR (no flat-image fast path)
    assert out.status in ("masked", "quarantined")
    if out.status == "masked":
        published = out.image["data"]
        assert published != data
        audit = json.loads(out.image["privacy_audit"])
        assert audit["output_sha256"] == sha256_hex(published)  # the published bytes are what was checked
        dec = decode(published, 10**8)
        for i, frame in enumerate(dec.frames):  # no frame shows unmasked ink where the number was
            masks = [m for m in out.masks if m.frame == i]
            ink = frame[14:44, 10:250].min()
            assert masks or ink > 200, (kind, i)
        assert all(h is None for h in dec.hidden)  # nothing left under transparency


def test_each_frame_is_checked_and_masked_where_it_holds_pii():
    data = gif_pii_on_frame_2(text_gray())
    masker, _ = fake_masker()
    out = masker.mask({"image_id": "b" * 64, "source_key": "anim.gif", "data": data})
    assert out.status == "masked" and {m.frame for m in out.masks} == {1}  # frame 1 is blank: no OCR, no mask
    dec = decode(out.image["data"], 10**8)
    assert dec.animated and len(dec.frames) == 2 and out.image["format"] == "gif"
    x, y, w, h = out.masks[0].box
    assert (dec.frames[1][y + 1 : y + h - 1, x + 1 : x + w - 1] < 10).all()  # solid fill (palette-exact black)


def test_sixteen_bit_png_is_scaled_not_clipped():
    gray = text_gray()
    dec = decode(png16(gray), 10**8)
    assert np.array_equal(dec.bgr[:, :, 0], gray)  # 8-bit view of the 16-bit picture: the same ink


def test_too_many_frames_are_quarantined():
    masker, _ = fake_masker()
    masker.cfg["limits"]["max_frames"] = 1
    out = masker.mask({"image_id": "c" * 64, "source_key": "anim.gif", "data": gif_pii_on_frame_2(text_gray())})
    assert out.status == "quarantined" and out.quarantine["reason_code"] == "too_large" and "frames" in out.quarantine["reason"]


def test_claimed_status_is_verified_against_output_sha256():
    masker, eng = fake_masker()
    data = png16(text_gray())
    forged = {"audit_version": 1, "output_sha256": "0" * 64}
    for status in ("masked", "clean", "manual_masked"):
        row = {"image_id": "d" * 64, "source_key": "x.png", "data": data, "privacy_status": status, "privacy_audit": json.dumps(forged)}
        out = masker.mask(row)
        assert out.status == "masked", status  # checked again, not passed through
        assert json.loads(out.image["privacy_audit"])["claim_unverified"] == status
    calls = eng.calls
    done = out.image  # a row this masker published: its audit proves its bytes
    again = masker.mask(done)
    assert again.status == "passthrough" and again.image is done and eng.calls == calls
    tampered = {**done, "data": data}
    assert masker.mask(tampered).status == "masked"
    missing = {**done, "data": None, "uri": "/nonexistent.png"}
    assert masker.mask(missing).status == "quarantined"  # no bytes to verify: not published


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(FONT), reason="fonts-noto-cjk not installed")
def test_real_ocr_masks_the_three_fail_open_images():
    masker = PrivacyMasker(load_config())
    for kind, make in sorted(FAIL_OPEN.items()):
        out = masker.mask({"image_id": "e" * 64, "source_key": kind, "data": make(text_gray())})
        assert out.status in ("masked", "quarantined"), kind
        if out.status == "masked":
            assert any("phone" in m.entities for m in out.masks), kind
            again = [ln.text for f in decode(out.image["data"], 10**8).frames for ln in masker.ocr(f)]
            assert not any("13812345678" in t.replace(" ", "") for t in again), (kind, again)
