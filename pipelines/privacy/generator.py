"""Synthetic e-commerce screenshots and photos with planted PII and ground-truth boxes (for the
benchmark and tests).

Two parts (`part="tune"` or `"heldout"`, vocabularies in `generator_vocab.py`): label words,
names, value formats, chat templates and *layouts* differ between them, so that a benchmark on
the held-out part measures how masking generalises to screenshots it was never tuned on.
Tuning layouts: order, logistics and after-sales pages (`key：value` rows), chat pages, shipping
label photos, product photos without text. Held-out layouts: refund pages (label above value, no
colon), pasted shipping details in chat, store headers, shipping labels as tables, profile pages
(key left, value right-aligned), order tables (column headers). Languages: zh, en and mixed (labels
in one language, values in the other). Drawn with Noto Sans CJK (Debian's fonts-noto-cjk) at
varied sizes, blur, JPEG quality and rotations; benign text (products, statuses, prices, UI words,
times) is planted too, to measure what masking leaves readable. Every planted string has its
polygon in image coordinates.

Deterministic: the same seed and part give the same bytes.
"""

from __future__ import annotations

import io as _io
import json
import os
import random
from dataclasses import asdict, dataclass, field

import numpy as np

from pipelines.privacy import generator_vocab as V

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_INDEX_SC = 2  # Noto Sans CJK SC inside the collection

KINDS = tuple(V.LAYOUTS["tune"])
LANGS = ("zh", "en", "mixed")
CATEGORIES = {
    "order": "Screenshot of product order",
    "logistics": "Screenshot of logistics order",
    "after_sales": "Screenshot of after-sales service order",
    "refund": "Screenshot of after-sales service order",
    "chat": "Screenshot of text message",
    "chat_paste": "Screenshot of text message",
    "label_photo": "Photo for purchasing consultation",
    "shipping_label": "Photo for purchasing consultation",
    "store_header": "Screenshot of store page",
    "profile": "Screenshot of personal information",
    "order_table": "Screenshot of product order",
    "product_photo": "Photo of product with damaged appearance",
}


@dataclass
class Planted:
    text: str
    entity: str  # PII entity, or "benign"
    polygon: list  # 4 [x, y] points

    @property
    def pii(self) -> bool:
        return self.entity != "benign"


@dataclass
class Sample:
    name: str
    kind: str
    lang: str
    category: str
    fmt: str
    data: bytes = field(repr=False)
    planted: list[Planted]
    params: dict

    def truth(self) -> dict:
        d = asdict(self)
        d.pop("data")
        return d


def font_available() -> bool:
    return os.path.exists(FONT_PATH)


class _Fonts:
    def __init__(self):
        from PIL import ImageFont

        self._cache = {}
        self._mod = ImageFont

    def get(self, size: int):
        if size not in self._cache:
            self._cache[size] = self._mod.truetype(FONT_PATH, size, index=FONT_INDEX_SC)
        return self._cache[size]


# -- values of one part ------------------------------------------------------------------------
def _d(r, n: int) -> str:
    return r.choice("123456789") + "".join(r.choice("0123456789") for _ in range(n - 1))


def _fill_format(r, fmt: str) -> str:
    """`{d12}`: 12 digits (no leading 0), `{x4}`: 4 digits, `{a3}`: 3 letters or digits."""
    import re

    def one(m):
        kind, n = m.group(1), int(m.group(2))
        if kind == "d":
            return _d(r, n)
        if kind == "x":
            return "".join(r.choice("0123456789") for _ in range(n))
        return "".join(r.choice("ABCDEFGHJKLMNPRSTUVWXY0123456789") for _ in range(n))

    return re.sub(r"\{([dxa])([0-9]+)\}", one, fmt)


def luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        s = prefix + d
        total = 0
        for i, ch in enumerate(reversed(s)):
            n = int(ch)
            if i % 2:
                n = n * 2 - 9 if n > 4 else n * 2
            total += n
        if total % 10 == 0:
            return s
    raise AssertionError("unreachable")


def cn_id_complete(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


class Values:
    """Random PII and benign strings drawn from one part's vocabulary."""

    def __init__(self, r: random.Random, part: str):
        self.r, self.part = r, part
        self.names, self.places, self.fmt = V.NAMES[part], V.PLACES[part], V.FORMATS[part]
        self.labels, self.chat, self.benign = V.LABELS[part], V.CHAT[part], V.BENIGN[part]

    def label(self, entity: str, lang: str) -> str:
        return self.r.choice(self.labels[entity][lang])

    def person_name(self, lang: str) -> str:
        r, n = self.r, self.names
        if lang == "zh":
            return r.choice(n["zh_surnames"]) + "".join(r.choice(n["zh_given"]) for _ in range(r.choice((1, 2))))
        return f"{r.choice(n['en_first'])} {r.choice(n['en_last'])}"

    def phone(self, lang: str) -> str:
        r = self.r
        if lang == "en" and r.random() < 0.5:
            return _fill_format(r, r.choice(self.fmt["intl"]))
        n = "1" + r.choice("3456789") + "".join(r.choice("0123456789") for _ in range(9))
        return r.choice(self.fmt["cn_mobile"]).format(a=n[:3], b=n[3:7], c=n[7:])

    def address(self, lang: str) -> str:
        r, p = self.r, self.places
        if lang == "zh":
            region = "".join(r.choice(p["zh_regions"]))
            b = p["zh_building"].format(
                n=r.randint(1, 300), b=r.randint(1, 20), u=r.randint(1, 6), r=f"{r.randint(1, 30)}{r.randint(1, 9):02d}"
            )
            return region + r.choice(p["zh_roads"]) + b
        return p["en_format"].format(
            num=r.randint(10, 999), street=r.choice(p["en_streets"]), city=r.choice(p["en_cities"]), u=r.randint(1, 40)
        )

    def order_number(self, lang: str = "zh") -> str:
        return _fill_format(self.r, self.r.choice(self.fmt["order"]))

    def tracking(self) -> str:
        return _fill_format(self.r, self.r.choice(self.fmt["tracking"]))

    def account(self, lang: str = "zh") -> str:
        r = self.r
        if r.random() < 0.5:
            return _d(r, r.randint(6, 10))  # a QQ number
        return (
            r.choice(("wxid_", "", ""))
            + "".join(r.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(r.randint(4, 8)))
            + _d(r, r.randint(2, 4))
        )

    def bank_card(self, lang: str = "zh") -> str:
        r = self.r
        n = luhn_complete(r.choice(("6222", "6217", "6228", "4512", "5218")) + _d(r, r.choice((11, 14)))[:-1] + "0")
        g = self.fmt["card_group"]
        return " ".join(n[i : i + g] for i in range(0, len(n), g)) if r.random() < 0.7 else n

    def id_card(self, lang: str = "zh") -> str:
        r = self.r
        first = (
            r.choice(("110105", "440306", "330106", "510107"))
            + str(r.randint(1960, 2005))
            + f"{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
            + _d(r, 3)
        )
        return cn_id_complete(first)

    def licence_plate(self, lang: str = "zh") -> str:
        r = self.r
        return (
            r.choice("京沪粤浙苏川鄂闽")
            + r.choice("ABCDEFG")
            + r.choice(("", "·", " "))
            + "".join(r.choice("0123456789ABCDEFHJK") for _ in range(4))
            + r.choice("0123456789")
        )

    def email(self, lang: str = "en") -> str:
        r, n = self.r, self.names
        return f"{r.choice(n['en_first']).lower()}.{r.choice(n['en_last']).lower()}{r.randint(1, 99)}@example.com"

    def store_name(self, lang: str) -> str:
        r, b = self.r, self.benign
        if lang == "zh":
            return r.choice(b["brands"]) + r.choice(b["store_suffix"])
        return r.choice(b["en_stores"])

    def value(self, entity: str, lang: str) -> str:
        return getattr(self, entity)(lang)

    def products(self, lang):
        return self.benign["zh_products" if lang == "zh" else "en_products"]

    def status(self, lang):
        return self.r.choice(self.benign["zh_status" if lang == "zh" else "en_status"])

    def ui(self, lang):
        return self.r.choice(self.benign["zh_ui" if lang == "zh" else "en_ui"])


# -- drawing ---------------------------------------------------------------------------------
class Canvas:
    def __init__(self, w, h, fonts: _Fonts, bg=(255, 255, 255)):
        from PIL import Image, ImageDraw

        self.im = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.im)
        self.fonts = fonts
        self.planted: list[Planted] = []
        self.w, self.h = w, h

    def text(self, x, y, parts, size, fill=(20, 20, 20)):
        """Draw consecutive parts [(text, entity-or-None)] on one line; plant those with an entity."""
        font = self.fonts.get(size)
        cx = x
        for text, entity in parts:
            if entity:
                x0, y0, x1, y1 = self.draw.textbbox((cx, y), text, font=font)
                self.planted.append(Planted(text, entity, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
            self.draw.text((cx, y), text, font=font, fill=fill)
            cx += self.draw.textlength(text, font=font)
        return y + int(size * 1.6)

    def width(self, text, size) -> float:
        return self.draw.textlength(text, font=self.fonts.get(size))

    def right(self, x_right, y, text, entity, size, fill=(20, 20, 20)):
        return self.text(x_right - self.width(text, size), y, [(text, entity)], size, fill)

    def rect(self, box, fill, outline=None):
        self.draw.rectangle(box, fill=fill, outline=outline)


def _lang_pair(r, lang):
    """(label language, value language): mixed pages put labels in one language, values in the other."""
    if lang != "mixed":
        return lang, lang
    return r.choice((("zh", "en"), ("en", "zh")))


def _sep(r, label_lang):
    return r.choice(("：", "：", " ")) if label_lang == "zh" else r.choice((": ", ": ", " "))


def _size(r, lo, hi):
    return r.randint(lo - 3, hi)


# -- layouts: tuning part ----------------------------------------------------------------------
TITLES = {
    "order": ("订单详情", "Order Details"),
    "logistics": ("物流详情", "Tracking"),
    "after_sales": ("售后详情", "After-sales"),
    "refund": ("退款详情", "Refund details"),
    "profile": ("个人资料", "My profile"),
    "order_table": ("批量订单", "Bulk orders"),
}


def _zh_en(lang, zh, en):
    return zh if lang == "zh" else en


def _kv(c, v, r, x, y, entity, lang, size, value=None):
    """`label<sep>value` on one line."""
    ll, vl = _lang_pair(r, lang)
    value = value or v.value(entity, vl)
    return c.text(x, y, [(v.label(entity, ll) + _sep(r, ll), None), (value, entity)], size)


def _page(r, v, fonts, kind, lang, w, h):
    c = Canvas(w, h, fonts, bg=(245, 245, 245))
    ll = "zh" if lang == "zh" else "en"
    c.rect((0, 0, w, 46), (228, 57, 60))
    c.text(16, 10, [(_zh_en(ll, *TITLES[kind]), "benign")], 20, fill=(255, 255, 255))
    y = 64
    c.rect((8, y - 6, w - 8, y + 90), (255, 255, 255))
    y = c.text(20, y, [(v.status(ll), "benign")], _size(r, 18, 24))
    value = v.tracking() if kind == "logistics" else v.order_number()
    y = _kv(c, v, r, 20, y, "order_number", lang, _size(r, 14, 22), value)
    y += 16
    c.rect((8, y - 6, w - 8, y + 130), (255, 255, 255))
    for entity in ("person_name", "phone", "address"):
        y = _kv(c, v, r, 20, y, entity, lang, _size(r, 14, 20) if entity != "address" else _size(r, 13, 17))
    c.text(w - 80, y - 24, [(v.ui(ll), "benign")], 14, fill=(120, 120, 120))
    y += 16
    c.rect((8, y - 6, w - 8, y + 120), (255, 255, 255))
    if r.random() < 0.6:
        y = c.text(20, y, [(v.store_name(ll), "store_name")], _size(r, 15, 20))
    y = c.text(20, y, [(r.choice(v.products(ll)), "benign")], _size(r, 16, 22))
    y = c.text(20, y, [(_zh_en(ll, "实付款", "Total"), "benign"), ("  ", None), (f"¥{r.randint(19, 999)}.00", "benign")], _size(r, 16, 22))
    if kind == "after_sales":
        y += 10
        y = _kv(c, v, r, 20, y, "order_number", lang, _size(r, 14, 20))
        y = _kv(c, v, r, 20, y, "bank_card", lang, _size(r, 14, 18))
        if r.random() < 0.5:
            y = _kv(c, v, r, 20, y, "id_card", lang, _size(r, 14, 18))
        if ll == "en":
            y = _kv(c, v, r, 20, y, "email", lang, _size(r, 14, 20))
    if kind == "logistics":
        y += 10
        y = c.text(20, y, [(v.status(ll), "benign")], _size(r, 14, 18), fill=(90, 90, 90))
        y = _kv(c, v, r, 20, y, "person_name", lang, _size(r, 14, 20))
        y = _kv(c, v, r, 20, y, "phone", lang, _size(r, 14, 20))
        y = _kv(c, v, r, 20, y, "licence_plate", "zh", _size(r, 14, 20))
    return c


def _chat(r, v, fonts, lang, w, h, n_pii=4):
    c = Canvas(w, h, fonts, bg=(237, 237, 237))
    c.rect((0, 0, w, 46), (250, 250, 250))
    ll = "zh" if lang == "zh" else "en"
    c.text(16, 10, [(_zh_en(ll, "在线客服", "Customer Service"), "benign")], 20)
    y = 70
    msgs = [("benign", r.choice(v.chat["benign_" + ll]))]
    templates = list(v.chat[ll])
    r.shuffle(templates)
    for t in templates[:n_pii]:
        msgs.append(("pii", t))
    msgs.append(("benign", r.choice(v.chat["benign_" + ll])))
    import re as _re

    for i, (kind, msg) in enumerate(msgs):
        size = r.randint(15, 20)
        right = i % 2 == 0
        x = w // 4 if right else 60
        parts = []
        if kind == "benign":
            parts = [(msg, "benign")]
        else:
            vl = "en" if lang == "en" else ("zh" if lang == "zh" else r.choice(("zh", "en")))
            pos = 0
            for m in _re.finditer(r"\{(\w+)\}", msg):
                if m.start() > pos:
                    parts.append((msg[pos : m.start()], None))
                ent = m.group(1)
                val = v.value(ent, vl if ent in ("person_name", "address", "phone") else "zh")
                if ent == "address" and vl == "zh":
                    val = val[:20]
                parts.append((val, ent))
                pos = m.end()
            if pos < len(msg):
                parts.append((msg[pos:], None))
        width = sum(c.width(t, size) for t, _ in parts)
        while x + width > w - 12 and size > 12:
            size -= 1
            width = sum(c.width(t, size) for t, _ in parts)
        x = max(12, min(x, int(w - 12 - width)))
        c.rect((x - 8, y - 6, x + width + 8, y + int(size * 1.6)), (149, 236, 105) if right else (255, 255, 255))
        c.text(x, y, parts, size)
        y += int(size * 1.6) + 22
    return c


def _label_card(r, v, fonts, lang):
    w, h = 420, 250
    c = Canvas(w, h, fonts, bg=(252, 252, 246))
    ll = "zh" if lang == "zh" else "en"
    c.rect((0, 0, w, 40), (30, 30, 30))
    c.text(12, 8, [(_zh_en(ll, "顺丰速运 标准快递", "EXPRESS PARCEL"), "benign")], 18, fill=(255, 255, 255))
    y = 52
    y = _kv(c, v, r, 14, y, "order_number", lang, r.randint(16, 20), v.tracking())
    for entity in ("person_name", "phone"):
        y = _kv(c, v, r, 14, y, entity, lang, r.randint(16, 20))
    ll2, vl = _lang_pair(r, lang)
    addr = v.address(vl)
    addr = addr[:18] if vl == "zh" else addr
    c.text(14, y, [(v.label("address", ll2) + _sep(r, ll2), None), (addr, "address")], r.randint(13, 16))
    for i in range(0, 160, 4):  # a barcode-like strip
        if r.random() < 0.6:
            c.rect((240 + i, 205, 241 + i, 240), (0, 0, 0))
    return c


# -- layouts: held-out part --------------------------------------------------------------------
def _refund(r, v, fonts, lang, w, h):
    """Label above value, no colon (cards of a refund page)."""
    c = Canvas(w, h, fonts, bg=(246, 246, 248))
    ll = "zh" if lang == "zh" else "en"
    c.rect((0, 0, w, 50), (255, 255, 255))
    c.text(w // 2 - 50, 12, [(_zh_en(ll, *TITLES["refund"]), "benign")], 20)
    y = 66
    c.rect((10, y - 8, w - 10, y + 60), (255, 255, 255))
    c.text(24, y, [(v.status(ll), "benign")], _size(r, 18, 22))
    c.text(24, y + 30, [(f"¥{r.randint(19, 999)}.{r.randint(0, 99):02d}", "benign")], 18)
    y += 80
    for entity in ("person_name", "phone", "bank_card", "order_number", "address"):
        ll2, vl = _lang_pair(r, lang)
        c.rect((10, y - 6, w - 10, y + 58), (255, 255, 255))
        c.text(24, y, [(v.label(entity, ll2), None)], 13, fill=(140, 140, 140))
        value = v.value(entity, vl)
        size = _size(r, 15, 19)
        while c.width(value, size) > w - 60 and size > 11:
            size -= 1
        c.text(24, y + 22, [(value, entity)], size)
        y += 70
    c.text(24, y, [(v.ui(ll), "benign")], 15, fill=(60, 90, 200))
    return c


def _store_header(r, v, fonts, lang, w, h):
    """A store's page: the name with buttons on its row, then the seller's details right-aligned."""
    c = Canvas(w, h, fonts, bg=(250, 250, 250))
    ll = "zh" if lang == "zh" else "en"
    c.rect((0, 0, w, 120), (40, 44, 60))
    c.rect((16, 24, 76, 84), (200, 160, 60))
    c.text(90, 30, [(v.store_name(ll), "store_name")], _size(r, 18, 22), fill=(255, 255, 255))
    c.text(90, 64, [(_zh_en(ll, f"{r.randint(2, 90)}万人关注", f"{r.randint(2, 90)}k followers"), "benign")], 14, fill=(210, 210, 210))
    button = r.choice(v.benign["store_buttons_" + ll])
    c.rect((w - 120, 36, w - 20, 70), (255, 80, 60))
    c.text(w - 110, 42, [(button, "benign")], 16, fill=(255, 255, 255))
    y = 140
    c.text(16, y, [(r.choice(v.products(ll)), "benign")], 17)
    y += 40
    c.text(16, y, [(_zh_en(ll, "商家资质", "Seller information"), "benign")], 16, fill=(100, 100, 100))
    y += 34
    for entity in ("store_name", "person_name", "phone", "email", "address"):
        ll2, vl = _lang_pair(r, lang)
        size = _size(r, 14, 17)
        c.text(16, y, [(v.label(entity, ll2), None)], size, fill=(90, 90, 90))
        value = v.value(entity, vl if entity != "email" else "en")
        if entity == "address" and c.width(value, size) > w * 0.6:
            size = max(11, size - 3)
        c.right(w - 16, y, value, entity, size)
        y += 40
    return c


def _profile(r, v, fonts, lang, w, h):
    """Settings rows: key at the left, value right-aligned, a chevron."""
    c = Canvas(w, h, fonts, bg=(242, 242, 246))
    ll = "zh" if lang == "zh" else "en"
    c.text(w // 2 - 40, 14, [(_zh_en(ll, *TITLES["profile"]), "benign")], 19)
    y = 64
    for entity in ("person_name", "phone", "account", "email", "id_card", "licence_plate", "address"):
        ll2, vl = _lang_pair(r, lang)
        c.rect((0, y - 10, w, y + 34), (255, 255, 255))
        size = _size(r, 14, 18)
        c.text(16, y, [(v.label(entity, ll2), None)], size)
        value = v.value(entity, vl if entity in ("person_name", "phone", "address") else "zh")
        if entity == "address" and vl == "zh":
            value = value[:16]
        while c.width(value, size) > w * 0.6 and size > 11:
            size -= 1
        c.right(w - 30, y, value, entity, size, fill=(110, 110, 110))
        c.text(w - 22, y, [(">", None)], size, fill=(180, 180, 180))
        y += 50
    c.text(16, y + 10, [(v.ui(ll), "benign")], 15, fill=(60, 90, 200))
    return c


def _order_table(r, v, fonts, lang, w, h):
    """Column headers, one value per row below each (a bulk-order table)."""
    c = Canvas(w, h, fonts, bg=(255, 255, 255))
    ll = "zh" if lang == "zh" else "en"
    c.text(16, 12, [(_zh_en(ll, *TITLES["order_table"]), "benign")], 20)
    cols = [("person_name", 16), ("phone", int(w * 0.3)), ("order_number", int(w * 0.62))]
    y = 60
    c.rect((8, y - 6, w - 8, y + 26), (235, 238, 245))
    ll2, vl = _lang_pair(r, lang)
    for entity, x in cols:
        c.text(x, y, [(v.label(entity, ll2), None)], 15, fill=(60, 60, 60))
    y += 40
    for _ in range(r.randint(2, 3)):
        for entity, x in cols:
            value = v.value(entity, vl)
            size = 15
            while c.width(value, size) > (w * 0.31) and size > 11:
                size -= 1
            c.text(x, y, [(value, entity)], size)
        y += 36
    y += 10
    c.text(16, y, [(r.choice(v.products(ll)), "benign")], 16)
    c.text(16, y + 30, [(v.status(ll), "benign")], 16)
    return c


def _shipping_label(r, v, fonts, lang):
    """A label printed as a table: key cell | value cell, a spaced tracking number on top."""
    w, h = 460, 330
    c = Canvas(w, h, fonts, bg=(255, 255, 255))
    ll = "zh" if lang == "zh" else "en"
    c.rect((2, 2, w - 3, h - 3), None, outline=(0, 0, 0))
    c.text(12, 10, [(v.tracking(), "order_number")], r.randint(18, 22))
    y = 48
    for section in (("收件", "TO"), ("寄件", "FROM")):
        c.rect((2, y - 4, w - 3, y + 118), None, outline=(0, 0, 0))
        c.text(10, y + 40, [(_zh_en(ll, *section), "benign")], 18)
        for entity in ("person_name", "phone", "address"):
            ll2, vl = _lang_pair(r, lang)
            c.rect((60, y - 4, 160, y + 34), None, outline=(0, 0, 0))
            c.text(66, y + 6, [(v.label(entity, ll2), None)], 13)
            value = v.value(entity, vl)
            size = 15
            while c.width(value, size) > w - 190 and size > 10:
                size -= 1
            c.text(170, y + 6, [(value, entity)], size)
            y += 38
        y += 6
    return c


def _photo_background(r, w, h):
    base = np.linspace(r.randint(90, 140), r.randint(150, 210), w, dtype=np.float32)[None, :, None].repeat(h, 0).repeat(3, 2)
    noise = np.random.default_rng(r.randint(0, 2**31)).normal(0, 6, (h, w, 3)).astype(np.float32)
    tint = np.array([r.uniform(0.85, 1.1) for _ in range(3)], np.float32)
    return np.clip(base * tint + noise, 0, 255).astype(np.uint8)


def _rotate_onto(card_rgb: np.ndarray, planted: list[Planted], angle: float, bg: np.ndarray, offset):
    import cv2

    h, w = card_rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2 + offset[0]
    m[1, 2] += nh / 2 - h / 2 + offset[1]
    out = cv2.warpAffine(card_rgb, m, (bg.shape[1], bg.shape[0]), dst=bg.copy(), borderMode=cv2.BORDER_TRANSPARENT, flags=cv2.INTER_LINEAR)
    moved = []
    for p in planted:
        pts = np.hstack([np.asarray(p.polygon, np.float64), np.ones((4, 1))]) @ m.T
        moved.append(Planted(p.text, p.entity, [[round(float(x), 1), round(float(y), 1)] for x, y in pts]))
    return out, moved


def _product_photo(r, w, h):
    import cv2

    img = _photo_background(r, w, h)
    color = tuple(int(v) for v in np.random.default_rng(r.randint(0, 2**31)).integers(30, 220, 3))
    cv2.ellipse(img, (w // 2, h // 2), (w // 4, h // 3), r.randint(0, 180), 0, 360, color, -1)
    cv2.rectangle(img, (w // 3, h // 6), (w // 2, h // 4), tuple(255 - c for c in color), -1)
    return img


def make_sample(r: random.Random, fonts: _Fonts, index: int, kind: str, lang: str, scale: float = 1.0, part: str = "tune") -> Sample:
    import cv2

    v = Values(r, part)
    params: dict = {"scale": scale, "part": part}
    if kind == "product_photo":
        rgb = _product_photo(r, int(480 * scale), int(360 * scale))
        planted = []
    elif kind in ("label_photo", "shipping_label"):
        card = _label_card(r, v, fonts, lang) if kind == "label_photo" else _shipping_label(r, v, fonts, lang)
        angle = round(r.uniform(-12, 12), 1) if kind == "label_photo" else round(r.uniform(-8, 8), 1)
        cw, ch = card.im.size
        bw, bh = int((cw + 140) * scale), int((ch + 190) * scale)
        bg = _photo_background(r, bw, bh)
        rgb, planted = _rotate_onto(
            np.asarray(card.im), card.planted, angle, bg, (r.randint(0, max(1, bw - cw - 100)), r.randint(0, max(1, bh - ch - 150)))
        )
        params["rotation"] = angle
    else:
        w, h = int(480 * scale), int(640 * scale)
        if kind in ("chat", "chat_paste"):
            c = _chat(r, v, fonts, lang, w, h, n_pii=4 if kind == "chat" else 5)
        elif kind in ("order", "logistics", "after_sales"):
            c = _page(r, v, fonts, kind, lang, w, h)
        else:
            draw = {"refund": _refund, "store_header": _store_header, "profile": _profile, "order_table": _order_table}[kind]
            c = draw(r, v, fonts, lang, w, h)
        rgb, planted = np.asarray(c.im), c.planted
        if r.random() < 0.3:  # a photo of the screen: rotated onto a background
            angle = round(r.uniform(-6, 6), 1)
            bg = _photo_background(r, w + 80, h + 80)
            rgb, planted = _rotate_onto(rgb, planted, angle, bg, (0, 0))
            params["rotation"] = angle
            params["screen_photo"] = True
    blur = r.choice((0.0, 0.0, 0.6, 1.0, 1.4))
    if blur:
        rgb = cv2.GaussianBlur(rgb, (0, 0), blur)
    params["blur_sigma"] = blur
    fmt = "png" if kind in ("chat", "chat_paste", "profile") and r.random() < 0.5 else "jpeg"
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if fmt == "jpeg":
        q = r.choice((35, 50, 70, 85, 95))
        params["jpeg_quality"] = q
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    else:
        ok, buf = cv2.imencode(".png", bgr)
    name = f"{index:04d}-{kind}-{lang}.{'jpg' if fmt == 'jpeg' else 'png'}"
    return Sample(name, kind, lang, CATEGORIES[kind], fmt, buf.tobytes(), planted, params)


def generate(n: int, seed: int = 0, kinds: tuple[str, ...] | None = None, scale: float = 1.0, part: str = "tune") -> list[Sample]:
    """`n` samples of one part (`tune` or `heldout`), cycling through its layouts (or `kinds`) and
    the languages zh, en, mixed."""
    if part not in V.PARTS:
        raise ValueError(f"part must be one of {V.PARTS}, got {part!r}")
    if not font_available():
        raise FileNotFoundError(f"{FONT_PATH} missing: apt-get install -y fonts-noto-cjk")
    kinds = tuple(kinds or V.LAYOUTS[part])
    r = random.Random(f"{seed}-{part}")
    fonts = _Fonts()
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        lang = LANGS[(i // len(kinds)) % len(LANGS)]
        out.append(make_sample(r, fonts, i, kind, lang, scale, part))
    return out


def write(samples: list[Sample], out_dir: str) -> str:
    """Images into `out_dir/images/`, ground truth into `out_dir/truth.jsonl` and categories into
    `out_dir/image_categories.jsonl` (the exchange-format format)."""
    img_dir = os.path.join(out_dir, "images")
    os.makedirs(img_dir, exist_ok=True)
    with (
        open(os.path.join(out_dir, "truth.jsonl"), "w", encoding="utf-8") as t,
        open(os.path.join(out_dir, "image_categories.jsonl"), "w", encoding="utf-8") as cats,
    ):
        for s in samples:
            with open(os.path.join(img_dir, s.name), "wb") as fh:
                fh.write(s.data)
            t.write(json.dumps(s.truth(), ensure_ascii=False, sort_keys=True) + "\n")
            cats.write(json.dumps({"image": s.name, "category": s.category}, ensure_ascii=False) + "\n")
    return img_dir


def to_png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()
