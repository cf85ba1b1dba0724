"""Fresh held-out e-commerce screenshots and photos for the image masking benchmark (issue #20).
NEVER tune on it.

Same sample structure as pipelines/privacy/generator.py (`Sample` with `Planted` strings and
their polygons), so `benchmarks/bench_privacy.py --part fresh` evaluates it unchanged. What is
new here: its own label words, names, places and value formats (benchmarks/heldout/vocab.py) and
its own layouts, drawn from the kinds of pages real users send:

- `order_detail`: an address card with name and phone on one line and no labels, order rows with
  the key at the left and the value right-aligned far from it;
- `logistics_track`: a tracking header and a timeline whose sentences carry the courier's name,
  phone and van plate in running text;
- `after_sales_form`: label and value on one line with no separator (`签收人林晓东`), or a space;
- `refund_progress`: steps, a sentence naming the card the money goes back to, key/value rows;
- `install_booking`: an installation booking with the technician's name and phone on one line,
  the product model (benign) and the site address;
- `profile_page`: the nickname shown large under an avatar with no cue, then settings rows;
- `store_page`: a store header and its licence block (operator, phone, e-mail, address);
- `packing_slip`: an English (or mixed) slip with a caption block of name and address lines;
- `waybill_photo`: a waybill with 收方/寄方-style captions and unlabeled name, phone and address
  lines, photographed at an angle;
- `chat_screenshot`: a chat (one-to-one or group with display names over the bubbles) whose
  messages come from the fresh text part (values with no cue, English addresses typed in chat).

Languages: zh, en and mixed (labels in one language, values in the other). Font faces vary
(Noto Sans CJK Regular or Bold, Noto Serif CJK where installed), as do sizes, colours, blur,
JPEG quality and (for photos) rotation. Deterministic: the same seed gives the same bytes.
"""

from __future__ import annotations

import os
import random
import unicodedata

import numpy as np

from benchmarks.heldout import text_gen
from benchmarks.heldout import vocab as V
from benchmarks.heldout.values import Values
from pipelines.privacy.generator import CATEGORIES, FONT_PATH, Canvas, Sample, _photo_background, _rotate_onto, font_available

KINDS = (
    "order_detail",
    "logistics_track",
    "after_sales_form",
    "refund_progress",
    "install_booking",
    "profile_page",
    "store_page",
    "packing_slip",
    "waybill_photo",
    "chat_screenshot",
)
LANGS = ("zh", "en", "mixed")
CATEGORY = {
    "order_detail": CATEGORIES["order"],
    "logistics_track": CATEGORIES["logistics"],
    "after_sales_form": CATEGORIES["after_sales"],
    "refund_progress": CATEGORIES["refund"],
    "install_booking": CATEGORIES["after_sales"],
    "profile_page": CATEGORIES["profile"],
    "store_page": CATEGORIES["store_header"],
    "packing_slip": CATEGORIES["order"],
    "waybill_photo": CATEGORIES["label_photo"],
    "chat_screenshot": CATEGORIES["chat"],
}
FACES = [
    (FONT_PATH, 2),
    (FONT_PATH, 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
]
THEMES = [(255, 80, 0), (226, 35, 26), (255, 196, 0), (22, 119, 255), (7, 193, 96), (40, 40, 40)]


class Fonts:
    """One face per sample (Canvas only asks for `get(size)`)."""

    def __init__(self, path: str, index: int):
        from PIL import ImageFont

        self.path, self.index, self._mod, self._cache = path, index, ImageFont, {}

    def get(self, size: int):
        if size not in self._cache:
            self._cache[size] = self._mod.truetype(self.path, size, index=self.index)
        return self._cache[size]


class Page:
    """A canvas plus the random source, values and languages of one sample."""

    def __init__(self, r: random.Random, fonts: Fonts, lang: str, w: int, h: int, bg=(245, 245, 245)):
        self.r, self.v, self.lang = r, Values(r, ime=False), lang
        self.c = Canvas(w, h, fonts, bg=bg)
        self.w, self.h = w, h
        self.ui = "zh" if lang == "zh" else ("en" if lang == "en" else r.choice(("zh", "en")))
        self.theme = r.choice(THEMES)

    # -- languages ----------------------------------------------------------------------------
    def pair(self) -> tuple[str, str]:
        """(label language, value language); mixed pages cross them."""
        if self.lang != "mixed":
            return self.lang, self.lang
        return self.r.choice((("zh", "en"), ("en", "zh"), (self.ui, self.ui)))

    def value(self, entity: str, lang: str, **kw) -> str:
        v = self.v
        make = {
            "person_name": v.person,
            "phone": v.phone,
            "address": v.address,
            "order_number": v.order_id,
            "tracking_number": v.tracking_id,
            "account": v.account,
            "bank_card": v.bank_card,
            "id_card": v.id_card,
            "licence_plate": v.plate,
            "email": v.email,
            "store_name": v.store,
        }[entity]
        return make(lang, **kw)

    def label(self, entity: str, lang: str) -> str:
        return self.r.choice(V.LABELS[entity][lang])

    # -- drawing ------------------------------------------------------------------------------
    def fit(self, text: str | list, size: int, max_w: float, floor: int = 13) -> int:
        """The largest size <= `size` (and >= `floor`) at which `text` (or parts) fits `max_w`."""
        while size > floor and self.width(text, size) > max_w:
            size -= 1
        return size

    def width(self, text: str | list, size: int) -> float:
        return self.c.width(text, size) if isinstance(text, str) else sum(self.c.width(t, size) for t, _ in text)

    def text(self, x, y, parts, size, fill=(25, 25, 25)):
        return self.c.text(x, y, parts, size, fill)

    def header(self, zh: str, en: str) -> int:
        c, w = self.c, self.w
        c.rect((0, 0, w, 56), self.theme)
        fill = (20, 20, 20) if self.theme == (255, 196, 0) else (255, 255, 255)
        title = zh if self.ui == "zh" else en
        c.text(w // 2 - c.width(title, 21) / 2, 14, [(title, "benign")], 21, fill=fill)
        c.text(14, 14, [("<", None)], 21, fill=fill)
        return 72

    def header_and_product(self, zh: str, en: str) -> int:
        """The title bar, then a card with the product the page is about."""
        y = self.header(zh, en)
        self.card(y, 85)
        return self.product_block(20, y)

    def card(self, y, height) -> None:
        self.c.rect((10, y - 10, self.w - 10, y + height), (255, 255, 255))

    def kv(self, x, y, entity, mode=None, size=None, value=None, value_lang=None) -> int:
        """One key/value row. `mode`: colon, none (no separator), space, right (value right-aligned)."""
        r = self.r
        ll, vl = self.pair()
        vl = value_lang or vl
        mode = mode or r.choice(("colon", "none", "space", "right", "right"))
        size = size or r.randint(15, 19)
        label = self.label(entity, ll)
        value = value if value is not None else self.value(entity, vl)
        if mode == "right":
            self.text(x, y, [(label, None)], size, fill=(110, 110, 110))
            lw = self.c.width(label, size) + 24
            size2 = self.fit(value, size, self.w - 2 * x - lw)
            self.c.right(self.w - x, y + (size - size2) // 2, value, entity, size2)
            return y + int(size * 1.9)
        sep = {"colon": "：" if ll == "zh" else ": ", "none": "", "space": " " if ll == "en" else r.choice((" ", "  "))}[mode]
        size = self.fit(label + sep + value, size, self.w - 2 * x)
        return self.text(x, y, [(label + sep, None), (value, entity)], size) + 6

    def benign_row(self, x, y, key_zh, key_en, value, size=16) -> int:
        key = key_zh if self.ui == "zh" else key_en
        self.text(x, y, [(key, "benign")], size, fill=(110, 110, 110))
        self.c.right(self.w - x, y, value, "benign", size)
        return y + int(size * 1.9)

    def product_block(self, x, y) -> int:
        r, v, ui = self.r, self.v, self.ui
        self.c.rect((x, y, x + 70, y + 70), tuple(r.randint(150, 230) for _ in range(3)))
        title = v.brand(ui) + (" " if ui == "en" else "") + v.product(ui)
        size = self.fit(title, 17, self.w - x - 110)
        self.text(x + 84, y, [(title, "benign")], size)
        self.text(x + 84, y + 26, [(v.model(ui), "benign"), ("   ", None), (v.size(ui), "benign")], 14, fill=(120, 120, 120))
        self.text(x + 84, y + 50, [(v.price(ui), "benign"), ("   ", None), (v.quantity(ui), "benign")], 15)
        return y + 86


# -- layouts -----------------------------------------------------------------------------------
def order_detail(p: Page) -> None:
    r, c = p.r, p.c
    y = p.header("订单详情", "Order details")
    p.text(20, y, [(r.choice(V.STATUS[p.ui]), "benign")], 22, fill=p.theme if p.theme != (255, 196, 0) else (20, 20, 20))
    y += 46
    p.card(y, 92)
    _, vl = p.pair()
    name, phone = p.value("person_name", vl), p.value("phone", vl)
    size = r.randint(17, 20)
    p.text(20, y, [(name, "person_name"), ("   ", None), (phone, "phone")], size)
    addr = p.value("address", vl)
    asz = p.fit(addr, 15, p.w - 40)
    p.text(20, y + 38, [(addr, "address")], asz, fill=(70, 70, 70))
    y += 112
    p.card(y, 110)
    if r.random() < 0.6:
        store = p.value("store_name", p.ui)
        y = p.text(20, y, [(store, "store_name")], 16) + 4
    y = p.product_block(20, y)
    y += 24
    p.card(y, 200)
    y = p.kv(20, y, "order_number", mode="right")
    y = p.benign_row(20, y, "下单时间", "Placed on", p.v.date(p.ui))
    y = p.benign_row(20, y, "支付方式", "Payment", r.choice(V.PAY_METHODS[p.ui]))
    y = p.kv(20, y, "account", mode="right")
    if r.random() < 0.5:
        y = p.kv(20, y, "email", value_lang="en")
    c.text(20, y + 10, [(r.choice(V.UI[p.ui]), "benign")], 16, fill=(60, 90, 200))


def logistics_track(p: Page) -> None:
    r = p.r
    y = p.header("物流详情", "Shipment")
    p.card(y, 60)
    y = p.kv(20, y, "tracking_number", mode=r.choice(("colon", "space", "none")))
    p.text(20, y, [(r.choice(V.STATUS[p.ui]), "benign")], 17, fill=(0, 150, 80))
    y += 50
    p.card(y, 420)
    _, vl = p.pair()
    steps_zh = [
        ("您的快件已由", "person_name", "派送中，有事请拨", "phone"),
        ("快件已交给", "person_name", "，联系", "phone"),
        ("送货车辆", "licence_plate", "已出发，司机", "person_name"),
        ("已签收，签收的是", "person_name", "，如有疑问", "phone"),
    ]
    steps_en = [
        ("Out with driver ", "person_name", ", call ", "phone"),
        ("Handed to ", "person_name", " (", "phone"),
        ("Van ", "licence_plate", " left the depot, driver ", "person_name"),
        ("Delivered, signed by ", "person_name", ". Questions? ", "phone"),
    ]
    steps = steps_zh if vl == "zh" else steps_en
    r.shuffle(steps)
    for a, e1, b, e2 in steps[: r.randint(3, 4)]:
        p.text(20, y, [(p.v.date(p.ui), "benign")], 14, fill=(120, 120, 120))
        y += 24
        v1, v2 = p.value(e1, vl), p.value(e2, vl)
        parts = [(a, None), (v1, e1), (b, None), (v2, e2)] + ([(")", None)] if b == " (" else [])
        size = p.fit(parts, 15, p.w - 50, floor=12)
        if p.width(parts, size) > p.w - 50:  # too long: two lines
            p.text(30, y, parts[:2], size)
            y += int(size * 1.6)
            p.text(30, y, parts[2:], size)
        else:
            p.text(30, y, parts, size)
        y += int(size * 1.6) + 18
    p.kv(20, y + 6, "address", mode="colon", size=15)


def after_sales_form(p: Page) -> None:
    r = p.r
    y = p.header_and_product("售后申请", "Return request") + 20
    p.card(y, 380)
    y = p.benign_row(
        20, y, "服务类型", "Service", r.choice(("换货", "维修", "退货退款")) if p.ui == "zh" else r.choice(("Exchange", "Repair", "Return"))
    )
    mode = r.choice(("none", "none", "space"))  # label and value read as one line
    for entity in ("order_number", "person_name", "phone", "address", "id_card" if r.random() < 0.5 else "email"):
        y = p.kv(20, y, entity, mode=mode, size=r.randint(15, 18))
    y = p.benign_row(20, y, "申请时间", "Requested", p.v.date(p.ui))
    p.text(20, y + 8, [(r.choice(V.UI[p.ui]), "benign")], 16, fill=(60, 90, 200))


def refund_progress(p: Page) -> None:
    r = p.r
    y = p.header("退款进度", "Refund status")
    p.text(20, y, [(p.v.price(p.ui), "benign")], 26)
    y += 48
    steps = ("提交申请", "商家处理", "银行处理", "到账") if p.ui == "zh" else ("Submitted", "Seller", "Bank", "Done")
    for i, s in enumerate(steps):
        p.text(20 + i * (p.w - 40) // 4, y, [(s, "benign")], 14, fill=(90, 90, 90))
    y += 40
    p.card(y, 70)
    _, vl = p.pair()
    card = p.value("bank_card", vl)
    if p.ui == "zh":
        parts = [("退款将原路退回至", None), (card, "bank_card")]
    else:
        parts = [("Money goes back to ", None), (card, "bank_card")]
    p.text(20, y, parts, p.fit(parts, 16, p.w - 40, floor=12))
    p.text(20, y + 30, [(p.v.date(p.ui), "benign")], 14, fill=(140, 140, 140))
    y += 90
    p.card(y, 260)
    for entity in ("order_number", "person_name", "bank_card", "phone"):
        y = p.kv(20, y, entity, mode=r.choice(("right", "colon", "none")))
    y = p.benign_row(
        20,
        y,
        "退款原因",
        "Reason",
        r.choice(("尺码不合适", "质量问题", "不想要了")) if p.ui == "zh" else r.choice(("Wrong size", "Defective", "Changed mind")),
    )


def install_booking(p: Page) -> None:
    r = p.r
    y = p.header_and_product("安装服务", "Installation") + 16
    p.card(y, 110)
    _, vl = p.pair()
    label = p.label("person_name", "zh" if p.ui == "zh" else "en")
    name, phone = p.value("person_name", vl), p.value("phone", vl)
    size = r.randint(15, 18)
    y = p.text(20, y, [(label + r.choice(("", " ", "：")), None), (name, "person_name"), ("  ", None), (phone, "phone")], size) + 8
    y = p.benign_row(20, y, "预约时间", "Appointment", p.v.date(p.ui))
    y = p.benign_row(20, y, "服务单状态", "Status", r.choice(V.STATUS[p.ui]))
    y += 16
    p.card(y, 170)
    y = p.kv(20, y, "address", mode=r.choice(("colon", "none")), size=15)
    y = p.kv(20, y, "order_number", mode="right")
    if r.random() < 0.5:
        y = p.kv(20, y, "licence_plate", value_lang="zh")
    p.text(20, y + 8, [(r.choice(V.UI[p.ui]), "benign")], 16, fill=(60, 90, 200))


def profile_page(p: Page) -> None:
    r, c = p.r, p.c
    c.rect((0, 0, p.w, 200), p.theme)
    c.rect((p.w // 2 - 40, 30, p.w // 2 + 40, 110), (230, 230, 230))
    _, vl = p.pair()
    ent = "account" if r.random() < 0.6 else "person_name"
    nick = p.value(ent, vl)
    size = p.fit(nick, 22, p.w - 60)
    fill = (20, 20, 20) if p.theme == (255, 196, 0) else (255, 255, 255)
    c.text(p.w / 2 - c.width(nick, size) / 2, 126, [(nick, ent)], size, fill=fill)
    member = ("会员等级 " + r.choice(("PLUS", "88VIP", "钻石"))) if p.ui == "zh" else ("Tier " + r.choice(("Gold", "Prime", "Plus")))
    c.text(p.w / 2 - c.width(member, 14) / 2, 162, [(member, "benign")], 14, fill=fill)
    y = 226
    for entity in ("person_name", "phone", "account", "id_card", "email", "address"):
        p.card(y, 30)
        y = p.kv(20, y, entity, mode="right", size=r.randint(15, 17)) + 6
    c.text(20, y + 4, [(r.choice(V.UI[p.ui]), "benign")], 16, fill=(60, 90, 200))


def store_page(p: Page) -> None:
    r, c = p.r, p.c
    c.rect((0, 0, p.w, 130), (35, 38, 52))
    c.rect((16, 26, 86, 96), p.theme)
    store = p.value("store_name", p.ui)
    c.text(100, 34, [(store, "store_name")], p.fit(store, 20, p.w - 230), fill=(255, 255, 255))
    fans = f"粉丝 {r.randint(2, 900)}万" if p.ui == "zh" else f"{r.randint(2, 900)}K fans"
    c.text(100, 70, [(fans, "benign")], 14, fill=(200, 200, 200))
    c.rect((p.w - 110, 40, p.w - 16, 76), p.theme)
    c.text(p.w - 100, 47, [(("关注" if p.ui == "zh" else "Follow"), "benign")], 16, fill=(255, 255, 255))
    y = 150
    y = p.product_block(16, y) + 20
    c.text(16, y, [(("证照信息" if p.ui == "zh" else "Business licence"), "benign")], 17)
    y += 40
    p.card(y, 230)
    for entity in ("store_name", "person_name", "phone", "email", "address"):
        y = p.kv(20, y, entity, mode=r.choice(("right", "colon")), size=r.randint(14, 17))


def packing_slip(p: Page) -> None:
    r, c = p.r, p.c
    c.rect((0, 0, p.w, p.h), (255, 255, 255))
    c.text(20, 20, [(r.choice(V.EN_STORES), "store_name")], 20)
    c.text(20, 52, [("PACKING SLIP", "benign")], 16, fill=(90, 90, 90))
    y = 96
    ll, vl = p.pair()
    cap = r.choice(V.WAYBILL_SIDES["en" if ll == "en" else "zh"])[0]
    c.text(20, y, [(cap, None)], 14, fill=(120, 120, 120))
    y += 26
    for entity in ("person_name", "address", "phone"):
        val = p.value(entity, vl)
        y = p.text(20, y, [(val, entity)], p.fit(val, 16, p.w - 40)) + 2
    y += 14
    y = p.kv(20, y, "order_number", mode=r.choice(("colon", "right")), size=15)
    y = p.kv(20, y, "email", mode="colon", size=15, value_lang="en")
    y = p.benign_row(20, y, "日期", "Date", p.v.date("en"), 15)
    y += 10
    c.rect((16, y, p.w - 16, y + 28), (235, 235, 235))
    c.text(24, y + 5, [("Item", None)], 14)
    c.text(p.w - 130, y + 5, [("Qty", None)], 14)
    y += 40
    for _ in range(r.randint(1, 3)):
        c.text(24, y, [(p.v.model("en"), "benign")], 15)
        c.text(p.w - 130, y, [(str(r.randint(1, 4)), None)], 15)
        c.right(p.w - 24, y, p.v.price("en"), "benign", 15)
        y += 34


def waybill_card(p: Page) -> None:
    r, c, w = p.r, p.c, p.w
    c.rect((2, 2, w - 3, p.h - 3), None, outline=(0, 0, 0))
    brand = (
        r.choice(("中通快递", "极兔速递", "德邦快递", "韵达快递"))
        if p.ui == "zh"
        else r.choice(("PARCEL EXPRESS", "SWIFTPOST", "NORTHLINE"))
    )
    c.text(12, 10, [(brand, "benign")], 20)
    tn = p.value("tracking_number", "zh")
    c.text(12, 44, [(tn, "tracking_number")], r.randint(18, 21))
    for i in range(0, 170, 4):  # barcode-like strip
        if r.random() < 0.6:
            c.rect((w - 190 + i, 12, w - 189 + i, 44), (0, 0, 0))
    y = 86
    ll, vl = p.pair()
    sides = r.choice(V.WAYBILL_SIDES["zh" if ll == "zh" else "en"])
    for cap in sides:
        c.rect((2, y - 6, w - 3, y + 104), None, outline=(0, 0, 0))
        c.text(12, y + 30, [(cap, None)], 22 if len(cap) <= 2 else 15)
        name, phone = p.value("person_name", vl), p.value("phone", vl)
        c.text(80, y, [(name, "person_name"), ("  ", None), (phone, "phone")], p.fit(name + "  " + phone, 18, w - 100))
        addr = p.value("address", vl)
        size = p.fit(addr, 16, w - 100, floor=12)
        if c.width(addr, size) > w - 100 and vl == "zh":  # wrap a long Chinese address at a character
            cut = len(addr) // 2
            c.text(80, y + 34, [(addr[:cut], "address")], size)
            c.text(80, y + 60, [(addr[cut:], "address")], size)
        else:
            c.text(80, y + 40, [(addr, "address")], size)
        y += 116
    c.text(12, y, [(p.v.date(p.ui), "benign")], 13)
    c.text(w - 150, y, [((f"重量 {r.randint(1, 30)}kg" if p.ui == "zh" else f"{r.randint(1, 30)} kg"), "benign")], 13)


def chat_screenshot(p: Page) -> None:
    r, c, w = p.r, p.c, p.w
    c.rect((0, 0, w, 56), (247, 247, 247))
    group = r.random() < 0.4
    title = ("售后群(3)" if p.ui == "zh" else "Order help (3)") if group else ("官方客服" if p.ui == "zh" else "Support chat")
    c.text(w // 2 - c.width(title, 19) / 2, 15, [(title, "benign")], 19)
    y = 76
    i = 0
    while y < p.h - 110 and i < 7:
        lang = p.lang if p.lang != "mixed" else r.choice(("zh", "en"))
        line = text_gen.make_line(r, lang, "x", ime=False)
        mine = i % 2 == 1
        size = r.randint(15, 18)
        if group and not mine:
            _, vl = p.pair()
            who = p.value("person_name", vl)
            c.text(66, y, [(who, "person_name")], 14, fill=(105, 105, 105))
            y += 22
        y = _bubble(p, line, y, size, mine)
        i += 1
    c.rect((0, p.h - 50, w, p.h), (247, 247, 247))


def _segments(line: dict) -> list[tuple[str, str | None]]:
    """A chat line cut into atoms: planted values whole, other text by character or word."""
    spans = sorted(
        [(s["start"], s["end"], s["value"], PII_ENTITY[s["type"]]) for s in line["pii"]]
        + [(s["start"], s["end"], s["value"], "benign") for s in line["benign"]]
    )
    out, pos, text = [], 0, line["text"]
    for start, end, value, ent in spans:
        out += [(t, None) for t in _words(text[pos:start])]
        out.append((value, ent))
        pos = end
    out += [(t, None) for t in _words(text[pos:])]
    return out


def _words(text: str) -> list[str]:
    import re

    return [t for t in re.findall(r"[A-Za-z0-9'.,:;!?()\-]+\s*|\s+|.", text) if t]


def _bubble(p: Page, line: dict, y: int, size: int, mine: bool) -> int:
    c, w = p.c, p.w
    max_w = int(w * 0.66)
    segs = _segments(line)
    while size > 12 and max(c.width(t, size) for t, _ in segs) > max_w:
        size -= 1
    rows, cur, cur_w = [], [], 0.0
    for t, ent in segs:
        tw = c.width(t, size)
        if cur and cur_w + tw > max_w:
            rows.append(cur)
            cur, cur_w = [], 0.0
            if not ent:
                t = t.lstrip()
                tw = c.width(t, size)
        cur.append((t, ent))
        cur_w += tw
    rows.append(cur)
    widths = [sum(c.width(t, size) for t, _ in row) for row in rows]
    bw = max(widths)
    step = int(size * 1.55)
    x = w - 66 - bw if mine else 66
    c.rect((12 if not mine else w - 52, y, 52 if not mine else w - 12, y + 40), (200, 200, 210) if not mine else (180, 210, 240))
    c.rect((x - 10, y - 4, x + bw + 10, y + step * len(rows) + 6), (149, 236, 105) if mine else (255, 255, 255))
    for row in rows:
        c.text(x, y, row, size)
        y += step
    return y + 26


PII_ENTITY = {
    "PHONE": "phone",
    "ID_CARD": "id_card",
    "BANK_CARD": "bank_card",
    "EMAIL": "email",
    "ORDER_ID": "order_number",
    "TRACKING_ID": "tracking_number",
    "ACCOUNT": "account",
    "PERSON": "person_name",
    "ADDRESS": "address",
    "PLATE": "licence_plate",
}
PAGES = {
    "order_detail": order_detail,
    "logistics_track": logistics_track,
    "after_sales_form": after_sales_form,
    "refund_progress": refund_progress,
    "install_booking": install_booking,
    "profile_page": profile_page,
    "store_page": store_page,
    "packing_slip": packing_slip,
    "chat_screenshot": chat_screenshot,
}


# -- samples -----------------------------------------------------------------------------------
def _faces() -> list[tuple[str, int]]:
    return [f for f in FACES if os.path.exists(f[0])]


def make_sample(r: random.Random, index: int, kind: str, lang: str) -> Sample:
    import cv2

    face = r.choice(_faces())
    fonts = Fonts(*face)
    params: dict = {"part": "fresh", "font": os.path.basename(face[0])}
    if kind == "waybill_photo":
        p = Page(r, fonts, lang, 480, 360, bg=(252, 252, 248))
        waybill_card(p)
        angle = round(r.uniform(-7, 7), 1)
        bw, bh = 480 + 160, 360 + 200
        bg = _photo_background(r, bw, bh)
        rgb, planted = _rotate_onto(np.asarray(p.c.im), p.c.planted, angle, bg, (r.randint(10, 60), r.randint(10, 80)))
        params["rotation"] = angle
    else:
        p = Page(r, fonts, lang, 540, 900, bg=(244, 244, 246) if kind != "chat_screenshot" else (237, 237, 237))
        PAGES[kind](p)
        bottom = max([pt[1] for q in p.c.planted for pt in q.polygon] + [400])
        rgb, planted = np.asarray(p.c.im)[: min(p.h, int(bottom) + r.randint(40, 120))], p.c.planted  # crop empty space
        if r.random() < 0.2:  # a photo of the screen
            angle = round(r.uniform(-4, 4), 1)
            bg = _photo_background(r, rgb.shape[1] + 80, rgb.shape[0] + 80)
            rgb, planted = _rotate_onto(rgb, planted, angle, bg, (0, 0))
            params["rotation"], params["screen_photo"] = angle, True
    for q in planted:  # full-width digits are drawn as typed; OCR reads them as ASCII
        q.text = unicodedata.normalize("NFKC", q.text)
    blur = r.choice((0.0, 0.0, 0.0, 0.5, 0.8))
    if blur:
        rgb = cv2.GaussianBlur(rgb, (0, 0), blur)
    params["blur_sigma"] = blur
    fmt = "png" if kind in ("chat_screenshot", "profile_page", "order_detail") and r.random() < 0.5 else "jpeg"
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if fmt == "jpeg":
        q = r.choice((55, 70, 85, 95))
        params["jpeg_quality"] = q
        _, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    else:
        _, buf = cv2.imencode(".png", bgr)
    name = f"fresh-{index:04d}-{kind}-{lang}.{'jpg' if fmt == 'jpeg' else 'png'}"
    return Sample(name, kind, lang, CATEGORY[kind], fmt, buf.tobytes(), planted, params)


def generate(n: int, seed: int = 0, kinds: tuple[str, ...] | None = None) -> list[Sample]:
    """`n` samples cycling through the layouts (or `kinds`) and the languages zh, en, mixed."""
    if not font_available():
        raise FileNotFoundError(f"{FONT_PATH} missing: apt-get install -y fonts-noto-cjk")
    kinds = tuple(kinds or KINDS)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown fresh layouts {sorted(unknown)}; known: {', '.join(KINDS)}")
    r = random.Random(f"heldout-images-{seed}")
    return [make_sample(r, i, kinds[i % len(kinds)], LANGS[(i // len(kinds)) % len(LANGS)]) for i in range(n)]
