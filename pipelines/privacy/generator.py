"""Synthetic JDDC-like images with planted PII and ground-truth boxes (for the benchmark and tests).

Kinds: order, logistics and after-sales screenshots, chat pages, photos of shipping labels, and
product photos without text (the fast path). Chinese and English, drawn with Noto Sans CJK
(Debian's fonts-noto-cjk). PII (names, phones, order and waybill numbers, addresses, e-mail,
store names) is planted at varied font sizes, rotations (label photos), blur and JPEG quality;
benign text (product names, prices, statuses, headings) is planted too, to measure what masking
leaves readable. Every planted string has its polygon in image coordinates.

Deterministic: the same seed gives the same bytes.
"""

from __future__ import annotations

import io as _io
import json
import os
import random
from dataclasses import asdict, dataclass, field

import numpy as np

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_INDEX_SC = 2  # Noto Sans CJK SC inside the collection

KINDS = ("order", "logistics", "after_sales", "chat", "label_photo", "product_photo")
CATEGORIES = {
    "order": "Screenshot of product order",
    "logistics": "Screenshot of logistics order",
    "after_sales": "Screenshot of after-sales service order",
    "chat": "Screenshot of text message",
    "label_photo": "Photo for purchasing consultation",
    "product_photo": "Photo of product with damaged appearance",
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
FIRST = ("James", "Mary", "John", "Linda", "Robert", "Emily", "David", "Sarah", "Michael", "Laura")
LAST = ("Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Clark", "Walker", "Young")
PROVINCES = (
    ("广东省", "深圳市", "南山区"),
    ("浙江省", "杭州市", "西湖区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("四川省", "成都市", "武侯区"),
    ("北京市", "朝阳区", ""),
    ("上海市", "浦东新区", ""),
)
ROADS = ("科技园路", "文三路", "中山北路", "人民南路", "建国路", "世纪大道", "学府街")
STREETS = ("Baker Street", "Maple Avenue", "Oak Road", "Elm Street", "Park Lane", "Sunset Boulevard")
CITIES = ("London", "Springfield", "Boston", "Seattle", "Austin")
STORE_BRANDS = ("美的", "小米", "格力", "海尔", "苏泊尔", "九阳", "飞利浦", "罗技")

BENIGN_ZH = ("无线蓝牙耳机", "智能电饭煲", "纯棉短袖T恤", "电动牙刷", "空气净化器", "不锈钢保温杯", "运动跑步鞋", "家用吹风机")
BENIGN_EN = (
    "Wireless Earbuds",
    "Rice Cooker",
    "Cotton T-Shirt",
    "Electric Toothbrush",
    "Air Purifier",
    "Steel Water Bottle",
    "Running Shoes",
    "Hair Dryer",
)
STATUS_ZH = ("已签收", "运输中", "待发货", "已完成", "派送中")
STATUS_EN = ("Delivered", "In transit", "Awaiting shipment", "Completed", "Out for delivery")
CHAT_ZH = ("这款有现货吗", "什么时候发货呢", "颜色发错了怎么办", "可以开发票吗", "好的谢谢")
CHAT_EN = ("Is this in stock", "When will it ship", "The color is wrong", "Can I get an invoice", "Thanks a lot")


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


# -- random PII ------------------------------------------------------------------------------
def zh_name(r):
    return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))


def en_name(r):
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def mobile(r, lang):
    n = "1" + r.choice("3456789") + "".join(r.choice("0123456789") for _ in range(9))
    style = r.random()
    if lang == "en" and style < 0.5:
        return f"+86 {n[:3]} {n[3:7]} {n[7:]}"
    if style < 0.25:
        return f"{n[:3]}-{n[3:7]}-{n[7:]}"
    return n


def digits(r, n):
    return r.choice("123456789") + "".join(r.choice("0123456789") for _ in range(n - 1))


def order_no(r):
    return digits(r, r.choice((12, 14, 16)))


def waybill(r):
    return r.choice(("JD", "SF", "YT", "ZTO")) + digits(r, r.choice((12, 13)))


def zh_address(r):
    p = r.choice(PROVINCES)
    return "".join(p) + r.choice(ROADS) + f"{r.randint(1, 300)}号{r.randint(1, 20)}栋{r.randint(1, 30)}{r.randint(1, 9):02d}室"


def en_address(r):
    return f"{r.randint(10, 999)} {r.choice(STREETS)}, {r.choice(CITIES)}"


def email(r):
    return f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}{r.randint(1, 99)}@example.com"


# -- drawing ---------------------------------------------------------------------------------
class Canvas:
    def __init__(self, w, h, fonts: _Fonts, bg=(255, 255, 255)):
        from PIL import Image, ImageDraw

        self.im = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.im)
        self.fonts = fonts
        self.planted: list[Planted] = []

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

    def rect(self, box, fill):
        self.draw.rectangle(box, fill=fill)


def _label(lang, zh, en):
    return zh if lang == "zh" else en


def _page(r, fonts, kind, lang, w, h):
    c = Canvas(w, h, fonts, bg=(245, 245, 245))
    s = lambda lo, hi: r.randint(lo - 3, hi)  # noqa: E731 - down to 11-12 px text
    c.rect((0, 0, w, 46), (228, 57, 60))
    y = 10
    title = {"order": ("订单详情", "Order Details"), "logistics": ("物流详情", "Tracking"), "after_sales": ("售后详情", "After-sales")}[
        kind
    ]
    c.text(16, y, [(_label(lang, *title), "benign")], 20, fill=(255, 255, 255))
    y = 64
    c.rect((8, y - 6, w - 8, y + 90), (255, 255, 255))
    status = r.choice(STATUS_ZH if lang == "zh" else STATUS_EN)
    y = c.text(20, y, [(status, "benign")], s(18, 24))
    if kind == "logistics":
        y = c.text(20, y, [(_label(lang, "运单号：", "Tracking No.: "), None), (waybill(r), "order_number")], s(14, 22))
    else:
        y = c.text(20, y, [(_label(lang, "订单号：", "Order No.: "), None), (order_no(r), "order_number")], s(14, 22))
    y += 16
    c.rect((8, y - 6, w - 8, y + 130), (255, 255, 255))
    name = zh_name(r) if lang == "zh" else en_name(r)
    y = c.text(20, y, [(_label(lang, "收货人：", "Name: "), None), (name, "person_name")], s(15, 24))
    y = c.text(20, y, [(_label(lang, "手机号码：", "Phone: "), None), (mobile(r, lang), "phone")], s(14, 22))
    addr = zh_address(r) if lang == "zh" else en_address(r)
    size = s(13, 18) if lang == "zh" else s(14, 20)
    y = c.text(20, y, [(_label(lang, "收货地址：", "Address: "), None), (addr, "address")], size)
    y += 16
    c.rect((8, y - 6, w - 8, y + 120), (255, 255, 255))
    product = r.choice(BENIGN_ZH if lang == "zh" else BENIGN_EN)
    if lang == "zh" and r.random() < 0.6:
        y = c.text(20, y, [(r.choice(STORE_BRANDS) + "官方旗舰店", "store_name")], s(15, 20))
    y = c.text(20, y, [(product, "benign")], s(16, 22))
    y = c.text(20, y, [(_label(lang, "实付款", "Total"), "benign"), ("  ", None), (f"¥{r.randint(19, 999)}.00", "benign")], s(16, 22))
    if kind == "after_sales":
        y += 10
        y = c.text(20, y, [(_label(lang, "服务单号：", "Service No.: "), None), (order_no(r), "order_number")], s(14, 20))
        if lang == "en":
            y = c.text(20, y, [("Email: ", None), (email(r), "email")], s(14, 20))
    if kind == "logistics":
        y += 10
        for _ in range(2):
            y = c.text(20, y, [(r.choice(STATUS_ZH if lang == "zh" else STATUS_EN), "benign")], s(14, 18), fill=(90, 90, 90))
        y = c.text(20, y, [(_label(lang, "快递员电话：", "Courier: "), None), (mobile(r, lang), "phone")], s(14, 20))
    return c


def _chat(r, fonts, lang, w, h):
    c = Canvas(w, h, fonts, bg=(237, 237, 237))
    c.rect((0, 0, w, 46), (250, 250, 250))
    c.text(16, 10, [(_label(lang, "在线客服", "Customer Service"), "benign")], 20)
    y = 70
    msgs = [("benign", r.choice(CHAT_ZH if lang == "zh" else CHAT_EN))]
    if lang == "zh":
        msgs += [
            ("phone", ("我的电话是", mobile(r, lang))),
            ("order_number", ("订单号是", order_no(r))),
            ("address", ("地址", zh_address(r)[:18])),
        ]
    else:
        msgs += [
            ("phone", ("My phone is ", mobile(r, lang))),
            ("order_number", ("Order No. ", order_no(r))),
            ("email", ("Mail me at ", email(r))),
        ]
    msgs.append(("benign", r.choice(CHAT_ZH if lang == "zh" else CHAT_EN)))
    for i, (ent, msg) in enumerate(msgs):
        size = r.randint(15, 21)
        right = i % 2 == 0
        x = w // 3 if right else 70
        c.rect((x - 8, y - 6, w - 16 if right else w - 80, y + int(size * 1.6)), (149, 236, 105) if right else (255, 255, 255))
        if ent == "benign":
            c.text(x, y, [(msg, "benign")], size)
        else:
            lead, value = msg
            c.text(x, y, [(lead, None), (value, ent)], size)
        y += int(size * 1.6) + 24
    return c


def _label_card(r, fonts, lang):
    w, h = 420, 250
    c = Canvas(w, h, fonts, bg=(252, 252, 246))
    c.rect((0, 0, w, 40), (30, 30, 30))
    c.text(12, 8, [(_label(lang, "顺丰速运 标准快递", "EXPRESS PARCEL"), "benign")], 18, fill=(255, 255, 255))
    y = 52
    y = c.text(14, y, [(_label(lang, "运单号：", "Waybill No.: "), None), (waybill(r), "order_number")], r.randint(16, 20))
    y = c.text(
        14,
        y,
        [(_label(lang, "收件人：", "Recipient: "), None), (zh_name(r) if lang == "zh" else en_name(r), "person_name")],
        r.randint(16, 20),
    )
    y = c.text(14, y, [(_label(lang, "电话：", "Tel: "), None), (mobile(r, lang), "phone")], r.randint(16, 20))
    addr = zh_address(r)[:16] if lang == "zh" else en_address(r)
    y = c.text(14, y, [(_label(lang, "地址：", "Address: "), None), (addr, "address")], r.randint(14, 17))
    for i in range(0, 160, 4):  # a barcode-like strip
        if r.random() < 0.6:
            c.rect((240 + i, 205, 241 + i, 240), (0, 0, 0))
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


def make_sample(r: random.Random, fonts: _Fonts, index: int, kind: str, lang: str, scale: float = 1.0) -> Sample:
    import cv2

    params: dict = {"scale": scale}
    if kind == "product_photo":
        rgb = _product_photo(r, int(480 * scale), int(360 * scale))
        planted = []
    elif kind == "label_photo":
        card = _label_card(r, fonts, lang)
        angle = round(r.uniform(-12, 12), 1)
        bw, bh = int(560 * scale), int(440 * scale)
        bg = _photo_background(r, bw, bh)
        rgb, planted = _rotate_onto(
            np.asarray(card.im), card.planted, angle, bg, (r.randint(0, max(1, bw - 520)), r.randint(0, max(1, bh - 400)))
        )
        params["rotation"] = angle
    else:
        w, h = int(480 * scale), int(640 * scale)
        c = _chat(r, fonts, lang, w, h) if kind == "chat" else _page(r, fonts, kind, lang, w, h)
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
    fmt = "png" if kind in ("chat",) and r.random() < 0.5 else "jpeg"
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if fmt == "jpeg":
        q = r.choice((35, 50, 70, 85, 95))
        params["jpeg_quality"] = q
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    else:
        ok, buf = cv2.imencode(".png", bgr)
    name = f"{index:04d}-{kind}-{lang}.{'jpg' if fmt == 'jpeg' else 'png'}"
    return Sample(name, kind, lang, CATEGORIES[kind], fmt, buf.tobytes(), planted, params)


def generate(n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS, scale: float = 1.0) -> list[Sample]:
    """`n` samples cycling through `kinds` and both languages."""
    if not font_available():
        raise FileNotFoundError(f"{FONT_PATH} missing: apt-get install -y fonts-noto-cjk")
    r = random.Random(seed)
    fonts = _Fonts()
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        lang = ("zh", "en")[(i // len(kinds)) % 2]
        out.append(make_sample(r, fonts, i, kind, lang, scale))
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
