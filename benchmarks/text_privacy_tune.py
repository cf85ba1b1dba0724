"""The TUNING part of the text de-identification benchmark: chat lines with planted personal values
and benign look-alikes, in the benchmark's JSONL format (benchmarks/bench_text_privacy.py).

Written from this file's own phrasings and tables only; the held-out part (benchmarks/heldout/,
written by someone else from other sources) is never read here, and nothing is tuned on it.

    python benchmarks/text_privacy_tune.py --n 600 --seed 1 --out tune.jsonl

Each line: {"id", "lang", "text", "pii": [{"start","end","type","value"}], "benign": [...]}.
"""

from __future__ import annotations

import argparse
import json
import random
import re

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
ZH_RARE = ["谌", "亓", "寇", "晏", "麴", "禚", "欧阳", "司马", "上官", "诸葛", "皇甫", "慕容"]
ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "强",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "晓东",
    "丽娟",
    "海燕",
    "子涵",
    "浩然",
    "梓萱",
    "雨桐",
    "一鸣",
    "思远",
    "佳怡",
    "俊熙",
    "欣怡",
    "鹏飞",
    "婉清",
    "文博",
    "嘉怡",
    "天佑",
]
EN_FIRST = [
    "James",
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Chloe",
    "Daniel",
    "Grace",
    "Samuel",
    "Hannah",
    "Nathan",
    "Zoe",
    "Owen",
    "Leah",
    "Caleb",
    "Nora",
    "Isaac",
    "Ella",
    "Adrian",
    "Priya",
    "Mateo",
    "Aisha",
    "Kenji",
    "Fatima",
]
EN_LAST = [
    "Thompson",
    "Garcia",
    "Patel",
    "Nguyen",
    "Kowalski",
    "Okafor",
    "Henderson",
    "Li",
    "Murphy",
    "Schmidt",
    "Rossi",
    "Fernandez",
    "Campbell",
    "Brennan",
    "Yamamoto",
    "Andersson",
    "Dubois",
    "Walsh",
    "Khan",
    "Ortiz",
]
ZH_CITY = [
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "深圳市", "南山区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("四川省", "成都市", "武侯区"),
    ("", "北京市", "朝阳区"),
    ("", "上海市", "浦东新区"),
    ("湖北省", "武汉市", "洪山区"),
    ("山东省", "青岛市", "市南区"),
]
ZH_ROAD = ["解放路", "中山路", "人民大道", "科技园路", "建设街", "文一西路", "长江路", "和平里", "幸福巷", "东风大街"]
ZH_COMPOUND = ["阳光花园", "金色家园", "翠苑小区", "世纪城", "绿城公寓", "万科大厦"]
EN_STREET = ["Maple Street", "Oak Avenue", "Elm Road", "Harbour Lane", "Kingsway Drive", "Cedar Court", "Mill Road", "Station Way"]
EN_CITY = ["Springfield, IL 62704", "Portland, OR 97205", "Leeds LS1 4AP", "Austin, TX 78701", "Bristol BS1 5TR"]
PRODUCTS_ZH = ["小米手环8", "华为Mate 60 Pro", "美的电饭煲", "海尔冰箱", "耐克运动鞋", "格力空调", "戴森吹风机", "九阳豆浆机"]
BRANDS_ZH = ["华为", "小米", "美的", "海尔", "格力", "李宁", "安踏", "联想", "九阳", "苏泊尔"]
PRODUCTS_EN = ["AirPods Pro", "Kindle Paperwhite", "Galaxy S24", "Instant Pot Duo", "Fitbit Charge 6", "ThinkPad X1 Carbon"]
BRANDS_EN = ["Nike", "Adidas", "Samsung", "Sony", "Dyson", "Lenovo", "Philips", "Bose"]
PUBLIC_ZH = ["周杰伦", "刘德华", "成龙", "王菲", "李宁"]
PUBLIC_EN = ["Taylor Swift", "LeBron James", "Serena Williams", "Tom Hanks", "Rihanna"]
MODELS = ["XQB80-36SP", "BCD-470WDPG", "RTX4090", "KFR-35GW", "SM-S9280", "A2894", "WH-1000XM5", "MDZ-16-DA"]


def digits(r, n):
    return "".join(r.choice("0123456789") for _ in range(n))


def luhn_complete(prefix: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return prefix + str((10 - total % 10) % 10)


def cn_id(r) -> str:
    first = (
        r.choice(["110101", "330106", "440305", "510107", "320102"])
        + f"{r.randint(1960, 2005)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
        + digits(r, 3)
    )
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first + "10X98765432"[sum(int(a) * b for a, b in zip(first, w)) % 11]


def value(r, typ: str, lang: str) -> str:
    if typ == "PHONE":
        m = "1" + r.choice("3578") + digits(r, 9)
        if lang == "en":
            return r.choice(
                [
                    f"+86 {m[:3]} {m[3:7]} {m[7:]}",
                    f"({r.randint(201, 989)}) {r.randint(201, 989)}-{digits(r, 4)}",
                    f"07{digits(r, 3)} {digits(r, 6)}",
                ]
            )
        return r.choice([m, f"{m[:3]}-{m[3:7]}-{m[7:]}", f"{m[:3]} {m[3:7]} {m[7:]}", f"0571-{digits(r, 8)}"])
    if typ == "ID_CARD":
        return cn_id(r)
    if typ == "BANK_CARD":
        c = luhn_complete(r.choice(["622202", "621700", "436742", "512345"]) + digits(r, 9))
        return r.choice([c, " ".join(c[i : i + 4] for i in range(0, 16, 4))])
    if typ == "EMAIL":
        return f"{r.choice(['lily', 'jack.w', 'xm_2020', 'sunny', 'k.okafor', 'zhang.li'])}{r.randint(1, 999)}@{r.choice(['qq.com', '163.com', 'gmail.com', 'outlook.com', 'example.org'])}"
    if typ == "ORDER_ID":
        return r.choice([digits(r, 12), digits(r, 16), "2023" + digits(r, 14)])
    if typ == "TRACKING_ID":
        return r.choice(
            [
                "SF" + digits(r, 12),
                "JD" + digits(r, 13),
                "YT" + digits(r, 13),
                "1Z" + "".join(r.choice("0123456789ABCDEF") for _ in range(16)),
                "EA" + digits(r, 9) + "CN",
            ]
        )
    if typ == "ACCOUNT":
        return r.choice(
            [
                "tb" + digits(r, 8),
                "wxid_" + "".join(r.choice("abcdefghjk0123456789") for _ in range(8)),
                r.choice(["sunny", "moon", "jack"]) + "_" + digits(r, 4),
                "QQ" + str(r.randint(10**7, 10**10)),
            ]
        )
    if typ == "PLATE":
        tail = [r.choice("0123456789") for _ in range(5)]
        for k in r.sample(range(5), r.randint(0, 2)):  # at most two letters among the last five
            tail[k] = r.choice("ABCDEFGHJK")
        return r.choice("京沪粤浙苏川鄂") + r.choice("ABCDEF") + "".join(tail)
    if typ == "PERSON":
        if lang == "en":
            return f"{r.choice(EN_FIRST)} {r.choice(EN_LAST)}"
        s = r.choice(ZH_RARE) if r.random() < 0.2 else r.choice(ZH_SURNAMES)
        return s + r.choice(ZH_GIVEN)
    if typ == "ADDRESS":
        if lang == "en":
            return f"{r.randint(1, 999)} {r.choice(EN_STREET)}, {r.choice(EN_CITY)}"
        p, c, d = r.choice(ZH_CITY)
        tail = r.choice(
            [
                f"{r.randint(1, 300)}号{r.randint(1, 30)}栋{r.randint(101, 2405)}室",
                f"{r.randint(1, 300)}号",
                f"{r.choice(ZH_COMPOUND)}{r.randint(1, 20)}幢{r.randint(1, 6)}单元{r.randint(101, 1802)}",
            ]
        )
        return f"{p}{c}{d}{r.choice(ZH_ROAD)}{tail}"
    raise KeyError(typ)


def benign(r, typ: str, lang: str) -> str:
    if typ == "PRICE":
        return r.choice(
            [
                f"¥{r.randint(9, 9999)}",
                f"{r.randint(9, 9999)}元",
                f"${r.randint(5, 999)}.{r.randint(0, 99):02d}",
                f"{r.randint(19, 4999)}.00",
            ]
        )
    if typ == "MODEL":
        return r.choice(MODELS)
    if typ == "DATE":
        return r.choice(
            [
                f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                f"{r.randint(1, 12)}月{r.randint(1, 28)}日",
                f"{r.randint(1, 12)}/{r.randint(1, 28)}/2024",
            ]
        )
    if typ == "SIZE":
        return r.choice(["XL", "175/92A", "42码", "US 9.5", "M号", "38B"])
    if typ == "QUANTITY":
        return r.choice([f"{r.randint(2, 12)}件", f"{r.randint(2, 6)}台", f"{r.randint(2, 9)} pcs", f"{r.randint(2, 5)} boxes"])
    if typ == "PICKUP_CODE":
        return r.choice([f"{r.randint(1, 9)}-{r.randint(1, 9)}-{r.randint(1000, 9999)}", str(r.randint(100000, 999999))])
    if typ == "PRODUCT":
        return r.choice(PRODUCTS_ZH if lang == "zh" else PRODUCTS_EN)
    if typ == "BRAND":
        return r.choice(BRANDS_ZH if lang == "zh" else BRANDS_EN)
    if typ == "PUBLIC_FIGURE":
        return r.choice(PUBLIC_ZH if lang == "zh" else PUBLIC_EN)
    raise KeyError(typ)


PII_TYPES = ("PHONE", "ID_CARD", "BANK_CARD", "EMAIL", "ORDER_ID", "TRACKING_ID", "ACCOUNT", "PERSON", "ADDRESS", "PLATE")
TEMPLATES = {
    "zh": [
        "我的手机号是{PHONE}，地址是{ADDRESS}",
        "收件人{PERSON}，电话{PHONE}",
        "订单号{ORDER_ID}，麻烦查一下什么时候发货",
        "快递单号是{TRACKING_ID}吗？一直没更新",
        "帮我改一下地址：{ADDRESS}，收货人{PERSON}",
        "{PERSON}的快递到了吗",
        "麻烦转告{PERSON}一下，{PRICE}的那款已经降价了",
        "我叫{PERSON}，{DATE}买的{PRODUCT}坏了",
        "身份证{ID_CARD}，实名认证一直失败",
        "退款打到这张卡{BANK_CARD}就行",
        "邮箱{EMAIL}，发票开到这里",
        "我的淘宝账号{ACCOUNT}，积分没到账",
        "车牌{PLATE}，到小区门口打我电话{PHONE}",
        "取件码{PICKUP_CODE}，放驿站了吗",
        "{BRAND}的{MODEL}还有{SIZE}吗，要{QUANTITY}",
        "{PUBLIC_FIGURE}同款卫衣还有货吗？{PRICE}",
        "{PUBLIC_FIGURE}代言的{PRODUCT}多少钱",
        "让{PERSON}签收就行，我不在家",
        "寄到{ADDRESS}，{PERSON}收，{PHONE}",
        "已经付款{PRICE}了，订单{ORDER_ID}",
        "您好，{PRODUCT}是{BRAND}官方正品吗",
        "亲，{DATE}之前能送到吗？要{QUANTITY}",
        "联系人：{PERSON} 手机：{PHONE}",
        "我老公{PERSON}会去拿，取件码{PICKUP_CODE}",
        "型号{MODEL}，尺码{SIZE}，一共{QUANTITY}",
        "包裹由{PERSON}代收，运单{TRACKING_ID}",
    ],
    "en": [
        "My phone number is {PHONE} and the address is {ADDRESS}",
        "Please ship it to {PERSON}, {ADDRESS}",
        "Order {ORDER_ID} still hasn't shipped",
        "The tracking number {TRACKING_ID} shows nothing",
        "Hi, this is {PERSON}, I bought the {PRODUCT} on {DATE}",
        "Can {PERSON} pick it up instead? The pickup code is {PICKUP_CODE}",
        "Email me at {EMAIL} please",
        "Refund to card {BANK_CARD}",
        "My username is {ACCOUNT}",
        "Is the {BRAND} {MODEL} available in {SIZE}? I need {QUANTITY}",
        "Is this the jacket {PUBLIC_FIGURE} wore? It's {PRICE}",
        "I saw {PUBLIC_FIGURE} endorse the {PRODUCT}",
        "{PERSON} will sign for the parcel, call {PHONE}",
        "Deliver to {ADDRESS} before {DATE}",
        "Thanks {PERSON}, the {PRODUCT} arrived",
        "I paid {PRICE} for order {ORDER_ID}",
        "Tell {PERSON} the {BRAND} charger is broken",
    ],
}


def line(r: random.Random, lang: str, idx: int) -> dict:
    tpl = r.choice(TEMPLATES[lang])
    text, pii, ben = "", [], []
    pos = 0
    for m in re.finditer(r"\{([A-Z_]+)\}", tpl):
        text += tpl[pos : m.start()]
        typ = m.group(1)
        v = value(r, typ, lang) if typ in PII_TYPES else benign(r, typ, lang)
        (pii if typ in PII_TYPES else ben).append({"start": len(text), "end": len(text) + len(v), "type": typ, "value": v})
        text += v
        pos = m.end()
    text += tpl[pos:]
    return {"id": f"tune-{lang}-{idx}", "lang": lang, "text": text, "pii": pii, "benign": ben}


def generate(n: int, seed: int) -> list[dict]:
    r = random.Random(seed)
    return [line(r, "zh" if i % 3 else "en", i) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.out, "w", encoding="utf-8") as fh:
        for rec in generate(a.n, a.seed):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
