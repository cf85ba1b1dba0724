"""Synthetic JDDC 2.1 corpus in the native formats, any size (text-only for benchmarks).

Sessions follow the shopping process the paper covers (pre-sales consultation, orders, logistics,
after-sales: damage, malfunction, missing parts, installation, ...) between a customer and an
agent of a small-appliance (小家电) or fashion (服饰鞋靴) shop, in Chinese with full-width
punctuation. Customers send screenshots and photos whose rendered text holds fake names, phone
numbers, order and waybill numbers and addresses (render.py). Agents answer from the knowledge
base. Annotated sessions get the three layers, consistent with the messages: rewrites of user
queries (with images: not rewritable when the photo shows what words cannot, about the paper's 14.28%;
text-only: 14.28% at random), a Table 12 discourse link for every
EDU but the first, trivial-utterance flags and a summary.

Layout written under OUT (what `mmdial build jddc --raw OUT` reads):
    data_train.txt, data_dev.txt                 message TSV (session, shop type, SKU, text, waiter flag)
    images/<md5>.jpg                             image messages' files (md5 of the bytes)
    kb.tsv                                       sku<TAB>attribute<TAB>value
    image_categories.jsonl                       {"image", "category"} for every image
    annotations/{query_rewrites,discourse,summaries}.jsonl
    GENERATED.json                               config and the counts a build must report

`bad` injects malformed records of every kind the builder must dead-letter (BAD_KINDS), appended
where they cannot shift the annotated sessions' EDU indices.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import asdict, dataclass

from pipelines.jddc import render

SHOPS = {
    "小家电": {
        "电饭煲": ("容量", ["3L", "4L", "5L"], "内胆材质", ["不锈钢", "陶瓷", "合金"]),
        "空气炸锅": ("容量", ["3.5L", "4.5L", "5.5L"], "功率", ["1350W", "1500W", "1700W"]),
        "电水壶": ("容量", ["1.5L", "1.7L", "1.8L"], "材质", ["304不锈钢", "玻璃"]),
        "吸尘器": ("续航时间", ["30分钟", "45分钟", "60分钟"], "吸力", ["18000Pa", "22000Pa"]),
        "电风扇": ("档位", ["3档", "9档", "12档"], "功率", ["40W", "55W", "60W"]),
    },
    "服饰鞋靴": {
        "篮球鞋": ("鞋面材质", ["网布", "合成革", "针织"], "尺码", ["40", "41", "42", "43", "44"]),
        "牛仔裤": ("腰型", ["高腰", "中腰", "低腰"], "尺码", ["28", "29", "30", "31", "32"]),
        "连衣裙": ("面料", ["棉", "雪纺", "真丝"], "尺码", ["S", "M", "L", "XL"]),
        "羽绒服": ("填充物", ["白鸭绒", "白鹅绒"], "尺码", ["M", "L", "XL", "XXL"]),
        "运动鞋": ("鞋底材质", ["橡胶", "EVA", "MD"], "尺码", ["38", "39", "40", "41", "42"]),
    },
}
BRANDS = ["美的", "九阳", "苏泊尔", "小熊", "海尔", "李宁", "安踏", "特步", "森马", "波司登"]
COLORS = {
    "白色": (235, 235, 235),
    "黑色": (35, 35, 35),
    "红色": (200, 40, 40),
    "蓝色": (40, 80, 200),
    "灰色": (128, 128, 128),
    "粉色": (240, 150, 180),
}
SURNAMES = [("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("赵", "Zhao"), ("周", "Zhou")]
GIVEN = [
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("秀英", "Xiuying"),
    ("建华", "Jianhua"),
]
CITIES = [
    ("北京市朝阳区", "Chaoyang, Beijing"),
    ("上海市浦东新区", "Pudong, Shanghai"),
    ("广州市天河区", "Tianhe, Guangzhou"),
    ("成都市武侯区", "Wuhou, Chengdu"),
    ("杭州市西湖区", "Xihu, Hangzhou"),
]
ROADS = [("建国路", "Jianguo Rd"), ("人民路", "Renmin Rd"), ("解放路", "Jiefang Rd"), ("中山路", "Zhongshan Rd")]
AGENTS = ["小美", "小东", "阿杰", "小悦", "豆豆"]

# image kind -> (Table 4 sub-category, screenshot title or None for a photo)
IMAGE_KINDS = {
    "product_screenshot": ("Screenshot of product", ("商品详情", "Product")),
    "order": ("Screenshot of product order", ("订单详情", "Order details")),
    "logistics": ("Screenshot of logistics order", ("物流详情", "Tracking")),
    "aftersales": ("Screenshot of after-sales service order", ("售后服务单", "After-sales")),
    "sms": ("Screenshot of text message", ("短信", "Messages")),
    "comment": ("Screenshot of user comment", ("商品评价", "Reviews")),
    "system": ("Screenshot of system or software", ("支付", "Payment")),
    "other_screen": ("Screenshot in other scenes", ("聊天记录", "Chat")),
    "consult": ("Photo for purchasing consultation", None),
    "damaged": ("Photo of product with damaged appearance", None),
    "malfunction": ("Photo of products with malfunction", None),
    "missing": ("Photo of product with missing items", None),
    "comparison": ("Photo for product recommendation and comparison", None),
    "installation": ("Photo for product installation", None),
    "screen": ("Photo of user screen shot", None),
}

QA_Q = "Question&Answer/Question/SWIH"
QA_YN = "Question&Answer/Question/Yes/No"
QA_AFF = "Question&Answer/Answer/Affirmation"
QA_DENY = "Question&Answer/Answer/Deny"
SOCIAL = "Communication/Social/Social"
BACKGROUND = "Contingency/Contingency/Background"
ELABORATION = "Contingency/Contingency/Elaboration"
SOLUTION = "Contingency/Contingency/Solution"
REQUEST = "Imperative/Suggestion/Request"
ACCEPT = "Imperative/Reply to suggestion/Acceptance"
PROMISE = "Promise/Promise/Promise"
SUSPEND = "Communication/Time/Suspend"
FEEDBACK = "Communication/Feedback/Feedback"
CONFIRM = "Communication/Contact/Confirm"
COORDINATE = "Contingency/Contingency/Coordinate"

# scenario: image kinds the customer may send, the query about it, its text-only rewrite, the
# agent's answer (relation), and the summary clause
SCENARIOS = {
    "presales": (
        ["product_screenshot", "consult", "comparison"],
        "这款{type}是什么{attr1}的？",
        "{name}是什么{attr1}的？",
        "亲，这款{type}的{attr1}是{val1}哦～",
        QA_AFF,
        "用户咨询{name}的{attr1}，客服答复为{val1}。",
    ),
    "order": (
        ["order"],
        "我这个订单什么时候发货？",
        "订单号{order}的{type}什么时候发货？",
        "亲，已为您查询，订单号{order}预计明天发货呢。",
        PROMISE,
        "用户询问订单{order}的发货时间，客服答复预计明天发货。",
    ),
    "logistics": (
        ["logistics", "sms"],
        "快递怎么还没到？",
        "运单号{waybill}的快递怎么还没到？",
        "亲亲，运单{waybill}已经在派送中了，请您耐心等待。",
        QA_AFF,
        "用户催问运单{waybill}的物流，客服告知正在派送。",
    ),
    "aftersales": (
        ["aftersales", "other_screen"],
        "售后单提交了怎么没人处理？",
        "售后服务单提交后为什么没人处理？",
        "非常抱歉，已为您加急处理，24小时内会有专人联系您。",
        PROMISE,
        "用户反映售后单未处理，客服承诺24小时内联系。",
    ),
    "damaged": (
        ["damaged"],
        "收到的{type}外观破损了，怎么办？",
        "收到的{name}外观破损了，怎么办？",
        "非常抱歉给您带来不便，您可以申请换货，运费由我们承担。",
        SOLUTION,
        "用户收到的{type}外观破损，客服建议申请换货。",
    ),
    "malfunction": (
        ["malfunction", "screen"],
        "屏幕显示E1是什么问题？",
        "{name}屏幕显示E1故障代码是什么问题？",
        "E1一般是传感器故障，建议您断电重启，仍不行可以申请维修。",
        SOLUTION,
        "用户的{type}显示E1故障，客服建议断电重启或维修。",
    ),
    "missing": (
        ["missing"],
        "包装里少了一个配件。",
        "收到的{name}包装里少了一个配件。",
        "亲，麻烦您提供一下订单号，我们给您补发。",
        REQUEST,
        "用户反映{type}缺少配件，客服安排补发。",
    ),
    "installation": (
        ["installation"],
        "这个要怎么安装？",
        "{name}要怎么安装？",
        "亲，说明书第3页有安装步骤，也可以预约师傅上门安装哦。",
        SOLUTION,
        "用户询问{type}的安装方法，客服提供说明书及上门安装。",
    ),
    "comment": (
        ["comment"],
        "评价里说会掉色，是真的吗？",
        "{name}的评价里说会掉色，是真的吗？",
        "亲，正常洗涤不会掉色的，请放心购买。",
        QA_DENY,
        "用户担心{type}掉色，客服答复正常洗涤不会掉色。",
    ),
    "payment": (
        ["system"],
        "付款的时候一直显示网络异常。",
        "付款的时候一直显示网络异常怎么办？",
        "亲，建议您切换网络或稍后重试，支付不会重复扣款的。",
        SOLUTION,
        "用户付款时遇到网络异常，客服建议切换网络重试。",
    ),
}
# What makes the images matter (the learning check of the JDDC baselines, modeling/jddc):
# - after a photo of an after-sales problem the customer only says "look at the picture", so the
#   photo's category (crack lines, an E1 display, an open box, an installation floor) alone decides
#   the agent's reply and the query's rewrite; a text-only model sees just that a photo was sent;
# - a query about a photo whose content words cannot carry (two products side by side, a photo of
#   a screen) is not rewritable as text (paper: 14.28% are not); others are;
# - the photographed product's colour is the answer to "what colour is it" and part of every
#   rewrite that names the product.
PHOTO_SCENARIOS = ("damaged", "malfunction", "missing", "installation")
PHOTO_QUERIES = ["您看下图片，这个怎么处理？", "图片里这个情况怎么办？", "就是图片上这样，怎么弄？"]
UNREWRITABLE_KINDS = frozenset({"comparison", "screen"})
OPENINGS = ["你好", "在吗？", "您好，请问在吗", "客服在吗"]
WAITS = ["请稍等，正在为您查询～", "亲，请稍等一下哦", "稍等，我帮您看一下"]
FILLER_USER = ["嗯嗯", "好的", "哦哦，明白了", "收到"]
CLOSINGS_USER = ["好的，谢谢", "行，谢谢你", "知道了，谢谢啦"]
CLOSINGS_AGENT = ["不客气，祝您生活愉快～", "感谢您的耐心，有问题随时联系我们哦～", "亲，还有其他可以帮您的吗？"]

BAD_KINDS = (
    "truncated",
    "columns",
    "waiter",
    "missing_image",
    "dangling_session",
    "dangling_edu",
    "bad_relation",
    "bad_category",
    "rewrite_on_agent",
    "kb_columns",
    "corrupt_image",
)
# the build stage that dead-letters each kind (missing_image is not dead: it goes to missing_images)
BAD_STAGE = {
    "truncated": "messages",
    "columns": "messages",
    "waiter": "messages",
    "dangling_session": "rewrites.session",
    "dangling_edu": "discourse.turns",
    "bad_relation": "discourse.parse",
    "bad_category": "categories.parse",
    "rewrite_on_agent": "rewrites.turns",
    "kb_columns": "kb.triples",
    "corrupt_image": "images",
}


@dataclass
class GeneratorConfig:
    out: str
    sessions: int = 200
    seed: int = 0
    annotated: int = -1  # -1: min(2000, sessions // 5)
    mean_turns: float = 14.06  # paper Table 2
    text_only: bool = False  # no image messages and no image files (benchmark scale)
    products: int = 0  # 0: scale with the sessions
    bad: int = 0
    dev_fraction: float = 0.1  # share of sessions written to data_dev.txt


@dataclass
class Msg:
    user: bool
    text: str = ""
    image: str | None = None  # kind, rendered later
    relation: str = ""
    parent: object = None  # the Msg it links to
    trivial: bool = False
    rewrite: str | None = None  # text-only rewrite for a user query (None: not a query)
    rewritable: bool = True


def _person(rng: random.Random) -> dict:
    s, g = rng.choice(SURNAMES), rng.choice(GIVEN)
    city, road = rng.choice(CITIES), rng.choice(ROADS)
    no, room = rng.randint(1, 300), rng.randint(101, 2405)
    return {
        "name": {"zh": s[0] + g[0], "en": f"{s[1]} {g[1]}"},
        "phone": "1" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(9)),
        "address": {"zh": f"{city[0]}{road[0]}{no}号{room}室", "en": f"No.{no} {road[1]}, {city[1]}, Rm {room}"},
        "order": str(rng.randint(10**11, 10**12 - 1)),
        "waybill": "JD" + str(rng.randint(10**12, 10**13 - 1)),
    }


def make_catalogue(rng: random.Random, n: int) -> list[dict]:
    products = []
    flat = [(shop, t, spec) for shop, types in SHOPS.items() for t, spec in types.items()]
    for i in range(n):
        shop, ptype, (a1, v1s, a2, v2s) = flat[i % len(flat)]
        brand, color = rng.choice(BRANDS), rng.choice(list(COLORS))
        val1, val2 = rng.choice(v1s), rng.choice(v2s)
        sku = str(100000000 + i * 7919 % 900000000 + i)
        name = f"{brand}{color}{ptype}"
        triples = [
            ("商品名称", name),
            ("品类", ptype),
            ("品牌", brand),
            ("颜色", color),
            (a1, val1),
            (a2, val2),
            ("上市时间", f"{rng.randint(2018, 2022)}年{rng.randint(1, 12)}月"),
        ]
        if rng.random() < 0.3:
            triples.append(("卖点", rng.choice(["静音设计", "一键操作", "轻便透气", "防滑耐磨", "易清洗"])))
        products.append(
            {
                "sku": sku,
                "shop": shop,
                "type": ptype,
                "name": name,
                "brand": brand,
                "color": color,
                "rgb": COLORS[color],
                "shape": i % 3,
                "attr1": a1,
                "val1": val1,
                "attr2": a2,
                "val2": val2,
                "triples": triples,
            }
        )
    return products


def make_session(rng: random.Random, product: dict, person: dict, cfg: GeneratorConfig) -> tuple[list[Msg], str, list[str]]:
    """(messages, summary, image kinds) of one session."""
    agent = rng.choice(AGENTS)
    scen = rng.choice([s for s in SCENARIOS if s not in ("comment",) or product["shop"] == "服饰鞋靴"])
    kinds, q, rw, ans, ans_rel, summ = SCENARIOS[scen]
    fill = {**product, **{k: v for k, v in person.items() if isinstance(v, str)}}
    msgs: list[Msg] = []
    m0 = Msg(True, rng.choice(OPENINGS), trivial=True)
    m1 = Msg(False, f"您好，欢迎光临{product['shop']}旗舰店，我是客服{agent}，很高兴为您服务～", relation=CONFIRM, parent=m0, trivial=True)
    msgs += [m0, m1]
    last_user = m0
    images = []
    if not cfg.text_only:
        for kind in rng.sample(kinds, k=min(len(kinds), 1 + (rng.random() < 0.6))):
            im = Msg(True, image=kind, relation=BACKGROUND, parent=last_user if last_user is not m0 else m1)
            msgs.append(im)
            images.append(kind)
            last_user = im
    shown = scen in PHOTO_SCENARIOS and any(k not in ("screen",) for k in images)
    query = Msg(
        True,
        PHOTO_QUERIES[len(images) % len(PHOTO_QUERIES)] if shown else q.format(**fill),
        relation=QA_Q if "？" in q else ELABORATION,
        parent=last_user if last_user is not m0 else m1,
        rewrite=rw.format(**fill),
    )
    coin = rng.random()  # drawn either way: the rest of the session stays the same random stream
    query.rewritable = coin >= 0.1428 if cfg.text_only else not UNREWRITABLE_KINDS.intersection(images)
    msgs.append(query)
    if rng.random() < 0.5:  # the agent asks the customer to wait: the answer then links past it
        msgs.append(Msg(False, rng.choice(WAITS), relation=SUSPEND, parent=query, trivial=True))
    answer = Msg(False, ans.format(**fill), relation=ans_rel, parent=query)
    msgs.append(answer)
    target = max(6, min(40, int(rng.gauss(cfg.mean_turns, 4))))
    prev_answer = answer
    while len(msgs) < target - 2:
        r = rng.random()
        if r < 0.55:
            pairs = [
                (product["attr1"], product["val1"]),
                (product["attr2"], product["val2"]),
                ("颜色", product["color"]),
                ("品牌", product["brand"]),
            ]
            # one question, or two in a row answered in turn (each answer links to its own question,
            # which only the attribute named in both tells apart)
            asked = rng.sample(pairs, k=2 if rng.random() < 0.35 else 1)
            questions = []
            for n, (attr, _) in enumerate(asked):
                rewrite = f"{product['name']}的{attr}是什么？"
                if n == 0:
                    uq = Msg(True, f"那{attr}是什么呢？", relation=QA_Q, parent=prev_answer, rewrite=rewrite)
                else:
                    uq = Msg(True, f"还有{attr}呢？", relation=COORDINATE, parent=questions[0], rewrite=rewrite)
                questions.append(uq)
            msgs += questions
            for uq, (attr, val) in zip(questions, asked):
                ua = Msg(False, f"亲，{attr}是{val}的哦。", relation=QA_AFF, parent=uq)
                msgs.append(ua)
                prev_answer = ua
        elif r < 0.75:
            wait = Msg(False, rng.choice(WAITS), relation=SUSPEND, parent=msgs[-1], trivial=True)
            msgs.append(wait)
        elif r < 0.9:
            msgs.append(Msg(True, rng.choice(FILLER_USER), relation=FEEDBACK, parent=msgs[-1], trivial=True))
        else:
            uq = Msg(
                True,
                f"我的手机号是{person['phone']}，地址是{person['address']['zh']}，能帮我改一下吗？",
                relation=REQUEST,
                parent=prev_answer,
                rewrite=f"能帮我把收货地址改为{person['address']['zh']}吗？",
            )
            msgs += [uq, Msg(False, "好的亲，已为您备注修改。", relation=ACCEPT, parent=uq)]
    closing = Msg(True, rng.choice(CLOSINGS_USER), relation=SOCIAL, parent=msgs[-1], trivial=True)
    msgs += [closing, Msg(False, rng.choice(CLOSINGS_AGENT), relation=SOCIAL, parent=closing, trivial=True)]
    return msgs, summ.format(**fill), images


def _render_image(kind: str, product: dict, person: dict, rng: random.Random) -> bytes:
    category, title = IMAGE_KINDS[kind]
    name, phone, addr = person["name"], person["phone"], person["address"]
    if title is None:
        label = (
            [("收件人", "To", name), ("电话", "Tel", phone), ("地址", "Addr", addr)] if kind in ("damaged", "missing", "consult") else None
        )
        return render.photo(
            {
                "damaged": "damaged",
                "malfunction": "malfunction",
                "missing": "missing",
                "comparison": "comparison",
                "installation": "installation",
                "screen": "screen",
            }.get(kind, "plain"),
            product,
            rng,
            label,
        )
    fields = {
        "product_screenshot": [
            ("价格", "Price", f"¥{rng.randint(59, 1999)}"),
            ("颜色", "Color", {"zh": product["color"], "en": "color"}),
            ("店铺", "Shop", {"zh": product["shop"], "en": "JD shop"}),
        ],
        "order": [
            ("订单号", "Order No", person["order"]),
            ("收货人", "Name", name),
            ("手机", "Phone", phone),
            ("地址", "Address", addr),
            ("实付款", "Paid", f"¥{rng.randint(59, 1999)}"),
        ],
        "logistics": [
            ("运单号", "Waybill", person["waybill"]),
            ("承运", "Carrier", {"zh": "京东快递", "en": "JD Express"}),
            ("派送员", "Courier", {"zh": "李师傅", "en": "Li"}),
            ("电话", "Tel", phone),
            ("收货地址", "Address", addr),
        ],
        "aftersales": [
            ("服务单号", "Service No", str(rng.randint(10**9, 10**10 - 1))),
            ("订单号", "Order No", person["order"]),
            ("联系人", "Contact", name),
            ("手机", "Phone", phone),
            ("取件地址", "Pickup", addr),
        ],
        "sms": [
            ("发件人", "From", "10690000"),
            ("内容", "Text", {"zh": f"【京东】您的订单{person['order']}已由{name['zh']}签收。", "en": f"Order {person['order']} signed"}),
        ],
        "comment": [
            ("用户", "User", {"zh": name["zh"][0] + "**", "en": name["en"][:2] + "**"}),
            ("评分", "Rating", "4/5"),
            ("评价", "Review", {"zh": "质量不错，就是有点掉色。", "en": "fades a little"}),
        ],
        "system": [("订单号", "Order No", person["order"]), ("错误码", "Error", f"ERR-{rng.randint(100, 999)}")],
        "other_screen": [("对方", "Peer", name), ("消息", "Msg", {"zh": f"我的电话是{phone}", "en": f"my phone {phone}"})],
    }[kind]
    prod = product if kind in ("product_screenshot", "order") else None
    return render.screenshot(kind, fields, title, rng, prod)


def _open(path: str):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return open(path, "w", encoding="utf-8", newline="\n")


def generate(cfg: GeneratorConfig) -> dict:
    """Write the corpus; returns the counts a build of it must report."""
    rng = random.Random(cfg.seed)
    n_products = cfg.products or max(60, min(30205, cfg.sessions // 8))
    cat = make_catalogue(rng, n_products)
    n_annot = min(2000, cfg.sessions // 5) if cfg.annotated < 0 else min(cfg.annotated, cfg.sessions)
    annotated = set(rng.sample(range(cfg.sessions), n_annot))
    plain = [i for i in range(cfg.sessions) if i not in annotated]
    bad_kinds = [BAD_KINDS[j % len(BAD_KINDS)] for j in range(cfg.bad)]
    # message-level faults go to the end of plain sessions, so no annotated index moves
    line_faults: dict[int, list[str]] = {}
    for j, kind in enumerate(k for k in bad_kinds if k in ("truncated", "columns", "waiter", "missing_image")):
        if plain:
            line_faults.setdefault(plain[(j * 7919) % len(plain)], []).append(kind)
    counts = {
        k: 0
        for k in (
            "sessions",
            "messages",
            "image_messages",
            "images",
            "missing_images",
            "kb_triples",
            "products",
            "categories",
            "rewrites",
            "discourse",
            "summaries",
            "annotated_sessions",
            "text_chars",
        )
    }
    dead: dict[str, int] = {}
    n_dev = int(cfg.sessions * cfg.dev_fraction)
    written_images: set[str] = set()
    annotated_info: list[tuple[str, list[Msg]]] = []
    ann = (
        {layer: _open(os.path.join(cfg.out, "annotations", f"{layer}.jsonl")) for layer in ("query_rewrites", "discourse", "summaries")}
        if n_annot
        else {}
    )
    cats = _open(os.path.join(cfg.out, "image_categories.jsonl")) if not cfg.text_only else None
    files = {"train": _open(os.path.join(cfg.out, "data_train.txt")), "dev": _open(os.path.join(cfg.out, "data_dev.txt"))}
    try:
        for i in range(cfg.sessions):
            sid = hashlib.md5(f"jddc-{cfg.seed}-{i}".encode()).hexdigest()[:16]
            product = cat[rng.randrange(len(cat))]
            person = _person(rng)
            msgs, summary, _ = make_session(rng, product, person, cfg)
            out = files["dev" if i >= cfg.sessions - n_dev else "train"]
            lines = []
            for m in msgs:
                sku = product["sku"] if m.user or rng.random() < 0.5 else ""
                if m.image:
                    data = _render_image(m.image, product, person, rng)
                    name = hashlib.md5(data).hexdigest() + ".jpg"
                    if name not in written_images:
                        render.to_file(os.path.join(cfg.out, "images", name), data)
                        written_images.add(name)
                        cats.write(
                            json.dumps({"image": name, "category": IMAGE_KINDS[m.image][0], "annotator": "synthetic"}, ensure_ascii=False)
                            + "\n"
                        )
                        counts["categories"] += 1
                    m.text = name
                    counts["image_messages"] += 1
                else:
                    counts["text_chars"] += len(m.text)
                lines.append(f"{sid}\t{product['shop']}\t{sku}\t{m.text}\t{0 if m.user else 1}\n")
            for kind in line_faults.get(i, []):
                if kind == "truncated":
                    lines.append(f"{sid}\t{product['shop']}\t{product['sku']}\t好的，那我再\n")
                elif kind == "columns":
                    lines.append(f"{sid}\t{product['shop']}\t{product['sku']}\t多了\t一列\t0\n")
                elif kind == "waiter":
                    lines.append(f"{sid}\t{product['shop']}\t{product['sku']}\t请问还有货吗？\t客服\n")
                else:  # an image message whose file is not in images/: builds, listed as missing
                    lines.append(f"{sid}\t{product['shop']}\t{product['sku']}\t{hashlib.md5(sid.encode()).hexdigest()}.jpg\t0\n")
                    counts["messages"] += 1
                    counts["image_messages"] += 1
                    counts["missing_images"] += 1
                    continue
                dead["messages"] = dead.get("messages", 0) + 1
            out.write("".join(lines))
            counts["sessions"] += 1
            counts["messages"] += len(msgs)
            if i in annotated:
                annotated_info.append((sid, msgs))
                _write_annotations(ann, sid, msgs, summary, counts)
        counts["annotated_sessions"] = len(annotated_info)
        counts["images"] = len(written_images)
    finally:
        for fh in [*files.values(), *ann.values(), *([cats] if cats else [])]:
            fh.close()
    kb_lines = [f"{p['sku']}\t{a}\t{v}\n" for p in cat for a, v in p["triples"]]
    counts["kb_triples"] = len(kb_lines)
    counts["products"] = len(cat)
    _inject_side_faults(cfg, bad_kinds, annotated_info, kb_lines, dead, counts)
    with _open(os.path.join(cfg.out, "kb.tsv")) as fh:
        fh.write("".join(kb_lines))
    report = {"counts": counts, "dead": dict(sorted(dead.items())), "font": "cjk" if render.has_cjk_font() else "ascii"}
    with _open(os.path.join(cfg.out, "GENERATED.json")) as fh:
        json.dump({"generator": "mmdial.jddc", "config": asdict(cfg), **report}, fh, indent=2, sort_keys=True, ensure_ascii=False)
    return report


def _write_annotations(ann: dict, sid: str, msgs: list[Msg], summary: str, counts: dict) -> None:
    index = {id(m): k for k, m in enumerate(msgs)}
    meta = {"annotator": "synthetic", "created_at": "2022-06-01T00:00:00Z"}
    for k, m in enumerate(msgs):
        if m.user and m.rewrite is not None:
            rec = {"session_id": sid, "turn_index": k, "rewritable": m.rewritable, "rewritten": m.rewrite if m.rewritable else None, **meta}
            ann["query_rewrites"].write(json.dumps(rec, ensure_ascii=False) + "\n")
            counts["rewrites"] += 1
        if k > 0:
            parent = index.get(id(m.parent), k - 1) if m.parent is not None else k - 1
            rec = {
                "session_id": sid,
                "turn_index": k,
                "parent_turn_index": min(parent, k - 1),
                "relation": m.relation or ELABORATION,
                **meta,
            }
            ann["discourse"].write(json.dumps(rec, ensure_ascii=False) + "\n")
            counts["discourse"] += 1
    trivial = [k for k, m in enumerate(msgs) if m.trivial]
    ann["summaries"].write(
        json.dumps({"session_id": sid, "trivial_turn_indices": trivial, "summary": summary, **meta}, ensure_ascii=False) + "\n"
    )
    counts["summaries"] += 1


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _inject_side_faults(
    cfg: GeneratorConfig, kinds: list[str], annotated: list[tuple[str, list[Msg]]], kb_lines: list[str], dead: dict, counts: dict
) -> None:
    ann_dir = os.path.join(cfg.out, "annotations")
    for j, kind in enumerate(kinds):
        stage = BAD_STAGE.get(kind)
        if kind in ("truncated", "columns", "waiter", "missing_image"):
            continue  # written with the messages
        if kind in ("dangling_session", "dangling_edu", "bad_relation", "rewrite_on_agent") and not annotated:
            continue
        if kind == "bad_category" and cfg.text_only:
            continue
        sid, msgs = annotated[j % len(annotated)] if annotated else ("", [])
        if kind == "dangling_session":
            _append(
                os.path.join(ann_dir, "query_rewrites.jsonl"),
                json.dumps(
                    {"session_id": f"nosuchsession{j}", "turn_index": 0, "rewritable": True, "rewritten": "这个多少钱？"},
                    ensure_ascii=False,
                ),
            )
        elif kind == "dangling_edu":
            _append(
                os.path.join(ann_dir, "discourse.jsonl"),
                json.dumps({"session_id": sid, "turn_index": len(msgs) + 2, "parent_turn_index": 0, "relation": QA_AFF}),
            )
        elif kind == "bad_relation":
            _append(
                os.path.join(ann_dir, "discourse.jsonl"),
                json.dumps(
                    {"session_id": sid, "turn_index": 1, "parent_turn_index": 0, "relation": "Question&Answer/Question/Maybe", "version": 2}
                ),
            )
        elif kind == "rewrite_on_agent":
            agent_turn = next(k for k, m in enumerate(msgs) if not m.user)
            _append(
                os.path.join(ann_dir, "query_rewrites.jsonl"),
                json.dumps({"session_id": sid, "turn_index": agent_turn, "rewritable": False, "rewritten": None, "version": 1}),
            )
        elif kind == "bad_category":
            _append(
                os.path.join(cfg.out, "image_categories.jsonl"), json.dumps({"image": "0123abcd.jpg", "category": "Screenshot of a cat"})
            )
        elif kind == "kb_columns":
            kb_lines.append(f"{kb_lines[0].split(chr(9))[0]}\t只有两列\n")
        elif kind == "corrupt_image":
            render.to_file(os.path.join(cfg.out, "images", f"{j:032x}.jpg"), b"\xff\xd8 not really a jpeg")
        dead[stage] = dead.get(stage, 0) + 1
