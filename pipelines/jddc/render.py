"""Draw the synthetic JDDC images: app screenshots (order, logistics, after-sales, ...) and product
photos, with legible rendered text that includes fake personal data (names, phone numbers,
order and waybill numbers, addresses), so the privacy stage has something real to find with OCR.

Text is drawn with Noto Sans CJK (Simplified Chinese face) when the font is installed
(`apt-get install -y fonts-noto-cjk`, done by `make test`/`make demo`); without it the same fields
are drawn in English/pinyin with OpenCV's Hershey font, so generation never fails for want of a font.
"""

from __future__ import annotations

import functools
import io as _io
import os
import random

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

# a field is (Chinese label, English label, value); values are dicts {"zh", "en"} or plain ASCII
Field = tuple[str, str, object]


@functools.lru_cache(maxsize=8)
def cjk_font(size: int):
    """The Simplified Chinese face of Noto Sans CJK at `size`, or None when not installed."""
    if not os.path.exists(CJK_FONT):
        return None
    from PIL import ImageFont

    for index in range(10):
        try:
            font = ImageFont.truetype(CJK_FONT, size, index=index)
        except OSError:
            break
        if "SC" in " ".join(font.getname()):
            return font
    return ImageFont.truetype(CJK_FONT, size)


def has_cjk_font() -> bool:
    return cjk_font(16) is not None


def _value(v, zh: bool) -> str:
    if isinstance(v, dict):
        return v["zh" if zh else "en"]
    return str(v)


def _wrap(label: str, value: str, font, max_px: int) -> list[str]:
    """`label：value` on one line when it fits, else the value on its own line(s), so numbers
    (phone, order, waybill) stay unbroken whenever they fit the width."""
    line = f"{label}：{value}"
    if font.getlength(line) <= max_px:
        return [line]
    out, cur = [f"{label}："], ""
    for ch in value:
        if cur and font.getlength(cur + ch) > max_px:
            out.append(cur)
            cur = ""
        cur += ch
    return out + ([cur] if cur else [])


class Canvas:
    """A PIL canvas that writes text in CJK when it can, else ASCII through OpenCV."""

    def __init__(self, w: int, h: int, bg=(255, 255, 255)):
        from PIL import Image, ImageDraw

        self.im = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.im)
        self.zh = has_cjk_font()
        self._ascii: list[tuple[str, tuple[int, int], float, tuple[int, int, int]]] = []
        self.w, self.h = w, h

    def text(self, xy, zh: str, en: str, size: int = 15, fill=(30, 30, 30)) -> None:
        if self.zh:
            self.draw.text(xy, zh, font=cjk_font(size), fill=fill)
        else:
            self._ascii.append((en, (xy[0], xy[1] + size), size / 30.0, fill))

    def field_lines(self, x: int, y: int, fields: list[Field], size: int = 15, gap: int = 6) -> int:
        max_px = self.w - x - 10
        for label_zh, label_en, value in fields:
            lines = _wrap(label_zh, _value(value, True), cjk_font(size), max_px) if self.zh else [f"{label_en}: {_value(value, False)}"]
            for line in lines:
                self.text((x, y), line, line, size)
                y += size + gap
        return y

    def jpeg(self, quality: int = 85) -> bytes:
        import cv2
        import numpy as np

        arr = np.asarray(self.im)[:, :, ::-1].copy()
        for text, (x, y), scale, fill in self._ascii:
            cv2.putText(arr, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, fill[::-1], 1, cv2.LINE_AA)
        ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return buf.tobytes()


def _header(c: Canvas, zh: str, en: str, color=(225, 37, 27)) -> int:
    c.draw.rectangle([0, 0, c.w, 36], fill=color)
    c.text((12, 7), zh, en, 18, fill=(255, 255, 255))
    return 48


def _product_shape(c: Canvas, box, color, kind: int) -> None:
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    if kind % 3 == 0:
        c.draw.rounded_rectangle([x0 + 10, y0 + 20, x1 - 10, y1 - 10], radius=18, fill=color, outline=(60, 60, 60), width=2)
        c.draw.ellipse([cx - 18, y0 + 30, cx + 18, y0 + 66], fill=(240, 240, 240))
    elif kind % 3 == 1:
        c.draw.polygon([(cx, y0 + 10), (x1 - 10, cy), (cx, y1 - 10), (x0 + 10, cy)], fill=color, outline=(60, 60, 60))
    else:
        c.draw.ellipse([x0 + 10, y0 + 10, x1 - 10, y1 - 10], fill=color, outline=(60, 60, 60), width=2)


def screenshot(kind: str, fields: list[Field], title: tuple[str, str], rng: random.Random, product=None) -> bytes:
    """An app screenshot (portrait, white, red title bar) listing `fields`."""
    c = Canvas(300, 420, (246, 246, 246))
    y = _header(c, *title)
    if product is not None:
        _product_shape(c, (20, y, 120, y + 100), product["rgb"], product["shape"])
        c.field_lines(130, y + 10, [("商品", "Item", product["name"])], 14)
        y += 112
    c.draw.rectangle([8, y - 4, c.w - 8, c.h - 8], fill=(255, 255, 255))
    c.field_lines(16, y + 4, fields, 15)
    if kind == "system":
        c.draw.rectangle([40, 300, 260, 380], outline=(120, 120, 120), width=2)
        c.text((60, 320), "网络异常，请重试", "Network error, retry", 15)
    return c.jpeg()


def photo(kind: str, product: dict, rng: random.Random, label: list[Field] | None = None) -> bytes:
    """A product photo (a drawing) with the damage or scene the category implies; `label` adds a
    parcel label with the recipient's name, phone and address (what couriers stick on boxes)."""
    bg = tuple(rng.randint(150, 215) for _ in range(3))
    c = Canvas(320, 320, bg)
    _product_shape(c, (40, 30, 230, 220), product["rgb"], product["shape"])
    if kind == "damaged":
        for _ in range(4):
            x, y = rng.randint(70, 200), rng.randint(60, 190)
            c.draw.line([x, y, x + rng.randint(-40, 40), y + rng.randint(20, 50)], fill=(20, 20, 20), width=3)
    elif kind == "malfunction":
        c.draw.rectangle([110, 100, 170, 130], fill=(10, 10, 10))
        c.text((118, 103), "E1", "E1", 18, fill=(255, 60, 60))
    elif kind == "missing":
        c.draw.rectangle([230, 150, 310, 230], outline=(90, 60, 20), width=3)
        c.text((236, 175), "缺件", "missing", 16)
    elif kind == "comparison":
        _product_shape(c, (200, 120, 310, 230), tuple(255 - v for v in product["rgb"]), product["shape"] + 1)
    elif kind == "installation":
        for x in range(0, 320, 40):
            c.draw.line([x, 230, x + 20, 320], fill=(100, 100, 100), width=2)
    elif kind == "screen":
        c.draw.polygon([(20, 40), (300, 20), (290, 230), (30, 250)], fill=(25, 25, 35))
        c.text((50, 80), "订单已签收", "Order delivered", 18, fill=(230, 230, 230))
    if label:
        c.draw.rectangle([8, 232, 312, 314], fill=(255, 255, 255), outline=(0, 0, 0))
        c.field_lines(14, 236, label, 13, gap=3)
    return c.jpeg()


def to_file(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def decode_ok(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(_io.BytesIO(data)) as im:
            im.verify()
        return True
    except Exception:  # noqa: BLE001
        return False
