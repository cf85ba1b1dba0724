"""Fresh held-out chat lines for the text de-identification benchmark (issue #23). NEVER tune on it.

    python -m benchmarks.heldout.text_gen --out FILE.jsonl --n 2000 --seed S

One JSON object per line: `{"id", "lang", "text", "pii": [...], "benign": [...]}`, each span
`{"start", "end", "type", "value"}` with `text[start:end] == value`. Chinese lines read like JDDC
after-sales chat, English lines like MMD / ReDial shopping chat. Phrasings are templates written
for this part only (none from the generator's vocabulary or the issues' examples): values alone
with no cue, cues after the value, several values per line, pasted contact blocks, IME full-width
digits, titled names (林女士), public figures and product model numbers as benign look-alikes.
Lines that carry no personal value are planted too, so benign text is measured on its own.
Deterministic: the same seed and n give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re

from benchmarks.heldout.values import BENIGN_TYPES, PII_TYPES, Values

# {TYPE} or {TYPE:option}; options: t = may be a titled name, chat = chat-style address
ZH_PII = [
    "{PHONE}",
    "{PHONE} 这个号能打通",
    "换个号码吧 {PHONE}，之前那个停机了",
    "师傅到了打{PHONE}，我在家",
    "帮我改一下：{PERSON}，{PHONE}，{ADDRESS}",
    "{ADDRESS}，{PERSON}收，{PHONE}",
    "东西放{ADDRESS:chat}就行",
    "地方是{ADDRESS}，麻烦尽快安排上门",
    "{ORDER_ID}这单怎么还没发",
    "这个{ORDER_ID}申请的退货，钱什么时候到账",
    "帮忙看看{TRACKING_ID}到哪了",
    "{TRACKING_ID} 显示签收了，但我根本没收到啊",
    "退款是原路退回{BANK_CARD}吗",
    "{BANK_CARD}是我爱人的卡，能退到这上面吗",
    "开专票要身份证吗，{ID_CARD}",
    "实名用的{ID_CARD}，名字{PERSON}",
    "电子发票发{EMAIL}，谢谢",
    "{EMAIL} 这个邮箱收得到",
    "我旺旺是{ACCOUNT}，你们后台查一下",
    "{ACCOUNT}是我的号，现在登录不上了",
    "{PLATE}这辆车是你们的送货车吗",
    "门口停着辆{PLATE}，是来送{PRODUCT}的吧",
    "我是{PERSON:t}，昨天约了装{PRODUCT}",
    "{PERSON}，{PHONE}",
    "让{PERSON}下楼拿一下，他电话{PHONE}",
    "找我家那位{PERSON}也行，{PHONE}",
    "送货的{PERSON:t}态度太差了",
    "订单{ORDER_ID}，留的号码不对，正确的是{PHONE}",
    "{PERSON}/{PHONE}/{ADDRESS}",
    "签收的是{PERSON}，不是我本人",
    "你好，{ORDER_ID}，{PRODUCT}坏了，{DATE}买的",
    "刚才{PERSON:t}给我打了{PHONE}，是你们的人吗",
    "{BANK_CARD} 户主{PERSON}",
    "{ID_CARD}，{PERSON}，报装用",
    "登录名{ACCOUNT}，绑的{PHONE}，麻烦核实一下",
    "我白天在{ADDRESS}上班，送这边",
    "就是{PHONE}啊，你们打错了吧",
    "{PERSON:t}你好，{ORDER_ID}的安装约在{DATE}可以吗",
    "{PERSON}和{PERSON}谁在家都能签",
    "新地址{ADDRESS:chat}，旧的那个不要了",
    "{ADDRESS:chat}，到了放门口",
    "{PHONE}，{PERSON:t}",
    "麻烦备注一下，收货的是{PERSON}",
    "{TRACKING_ID}这个件{DATE}就该到了",
    "{PERSON:t}说今天来装，到现在没人",
    "用{EMAIL}注册的，密码忘了",
    "我老家{ADDRESS}，过年寄回去",
    "卡号不对，应该是{BANK_CARD}",
    "{ORDER_ID}和{ORDER_ID}合并发可以吗",
]
ZH_BENIGN = [
    "{PRODUCT}型号是{MODEL}吗，多少钱",
    "{BRAND}的{PRODUCT}现在{PRICE}？",
    "取件码{PICKUP_CODE}，柜子打不开",
    "买了{QUANTITY}，要{SIZE}的，还有货吗",
    "{DATE}之前能到吗",
    "{PUBLIC_FIGURE}同款{PRODUCT}还有吗",
    "{PUBLIC_FIGURE}代言的那款{MODEL}在哪买",
    "{MODEL}和{MODEL}有什么区别",
    "实付{PRICE}，说好的优惠后{PRICE}呢",
    "尺码{SIZE}，数量{QUANTITY}",
    "{BRAND}{MODEL}保修几年",
    "驿站取件码是{PICKUP_CODE}吗",
    "{PRODUCT}{DATE}到货，{PRICE}能保价吗",
]
ZH_OPEN = ["", "", "", "亲，", "在吗？", "你好，", "客服，", "嗯嗯 ", "急！", "那个，"]
ZH_CLOSE = ["", "", "", "，谢谢", "～", "哈", "！！", "。", " 谢谢亲", "，麻烦了"]

EN_PII = [
    "{PERSON} here, the {PRODUCT} arrived broken",
    "hi, it's {PERSON}. any update on {ORDER_ID}?",
    "text me at {PHONE} when it ships",
    "{PHONE} works best after 6pm",
    "can you ship to my office instead: {ADDRESS}",
    "{ADDRESS} - that's the new place",
    "deliver it to {ADDRESS:chat} pls",
    "the gift is for {PERSON}, please write her name on the card",
    "put it under {PERSON}",
    "{EMAIL} is where the receipt should go",
    "send the invoice to {EMAIL} and cc {EMAIL}",
    "why was {BANK_CARD} billed again?",
    "{ORDER_ID} still says processing",
    "{ORDER_ID} never showed up",
    "tracking {TRACKING_ID} hasn't moved in a week",
    "{TRACKING_ID} shows delivered but nothing here",
    "the courier's van plate was {PLATE}",
    "{ACCOUNT} on insta, DM me the pics",
    "the account is {ACCOUNT} if that helps",
    "{PERSON}, {PHONE}, {ADDRESS}",
    "thanks!! {PERSON}",
    "something like what {PUBLIC_FIGURE} wore, it's for my sister {PERSON}",
    "my husband {PERSON} will pick it up, his cell is {PHONE}",
    "{PERSON:t} from support told me to message here",
    "customs wants an ID: {ID_CARD}",
    "refund it to {BANK_CARD} please, the old card is closed",
    "{PHONE} - call before delivery",
    "it's {ADDRESS}, the blue door",
    "I moved, new one is {ADDRESS:chat}",
    "ask for {PERSON} at the front desk",
    "{PERSON} and {PERSON} both live here, either can sign",
    "{PERSON:t} said the {PRODUCT} would be replaced by {DATE}",
    "my order {ORDER_ID}, same email {EMAIL}",
    "reach {PERSON} on {PHONE} if I'm out",
    "ordered {QUANTITY} on {DATE}, confirmation {ORDER_ID}",
    "is {EMAIL} the right address for returns? I'm {PERSON}",
    "have you seen {MOVIE_MENTION}? my name's {PERSON} btw",
    "{PERSON} recommended {MOVIE_MENTION} to me, anything like it",
    "add me {ACCOUNT}, I'll send the receipt",
    "my cell {PHONE}. the {BRAND} one please",
]
EN_BENIGN = [
    "do you have the {BRAND} {MODEL} in {SIZE}?",
    "is the {PRODUCT} under {PRICE}?",
    "I'd like {QUANTITY} of the {PRODUCT}",
    "looking for sneakers like the ones {PUBLIC_FIGURE} wears",
    "will it arrive by {DATE}?",
    "locker code {PICKUP_CODE} didn't work",
    "{PUBLIC_FIGURE} had a {BRAND} jacket in that photo, do you stock it?",
    "compare {MODEL} vs {MODEL} for me",
    "it was {PRICE} yesterday and {PRICE} today??",
    "any {BRAND} {PRODUCT} in {SIZE}",
    "the {MODEL} is out of stock again",
    "I loved {MOVIE_MENTION} and {MOVIE_MENTION}, something similar?",
    "{MOVIE_MENTION} is my favourite, {PUBLIC_FIGURE} was great in it",
]
EN_OPEN = ["", "", "", "hey ", "hi there, ", "ok so ", "sorry, ", "quick q: "]
EN_CLOSE = ["", "", "", " thanks", " :)", " asap", "!", ".", " thx"]

_SLOT = re.compile(r"\{([A-Z_]+)(?::(\w+))?\}")
JOIN = {"zh": ["，", " ", "。", "；"], "en": [". ", ", ", " ", " - "]}


class LineBuilder:
    """Text of one line built piece by piece, with the span of every planted value."""

    def __init__(self):
        self.text, self.pii, self.benign = "", [], []

    def add(self, piece: str, kind: str | None = None, typ: str | None = None) -> None:
        if kind:
            getattr(self, kind).append({"start": len(self.text), "end": len(self.text) + len(piece), "type": typ, "value": piece})
        self.text += piece


def _value(v: Values, typ: str, opt: str | None, lang: str) -> tuple[str, str]:
    if typ in PII_TYPES:
        method = getattr(v, PII_TYPES[typ][0])
        if typ == "PERSON":
            return method(lang, titled=0.5 if opt == "t" else 0.0), "pii"
        if typ == "ADDRESS":
            return method(lang, chat=opt == "chat"), "pii"
        return method(lang), "pii"
    if typ in BENIGN_TYPES:
        return getattr(v, BENIGN_TYPES[typ])(lang), "benign"
    raise KeyError(f"unknown slot type {typ}")


def _fill(b: LineBuilder, v: Values, template: str, lang: str, lower: bool) -> None:
    pos = 0
    for m in _SLOT.finditer(template):
        lit = template[pos : m.start()]
        b.add(lit.lower() if lower else lit)
        value, kind = _value(v, m.group(1), m.group(2), lang)
        b.add(value, kind, m.group(1))
        pos = m.end()
    lit = template[pos:]
    b.add(lit.lower() if lower else lit)


def make_line(r: random.Random, lang: str, idx: str, ime: bool = True) -> dict:
    """One chat line; `ime=False`: no full-width digits (for chat screenshots)."""
    v = Values(r, ime)
    pii_t, benign_t = (ZH_PII, ZH_BENIGN) if lang == "zh" else (EN_PII, EN_BENIGN)
    opens, closes = (ZH_OPEN, ZH_CLOSE) if lang == "zh" else (EN_OPEN, EN_CLOSE)
    roll = r.random()
    if roll < 0.22:
        templates = [r.choice(benign_t)]
    elif roll < 0.75:
        templates = [r.choice(pii_t)]
    else:  # two clauses in one message, one may be benign
        templates = [r.choice(pii_t), r.choice(pii_t + benign_t)]
        r.shuffle(templates)
    lower = lang == "en" and r.random() < 0.3
    b = LineBuilder()
    b.add(r.choice(opens))
    for i, t in enumerate(templates):
        if i:
            b.add(r.choice(JOIN[lang]))
        _fill(b, v, t, lang, lower)
    b.add(r.choice(closes))
    return {"id": idx, "lang": lang, "text": b.text, "pii": b.pii, "benign": b.benign}


def generate(n: int, seed: int, zh_share: float = 0.55) -> list[dict]:
    """`n` lines, about `zh_share` of them Chinese."""
    r = random.Random(f"heldout-text-{seed}")
    return [make_line(r, "zh" if r.random() < zh_share else "en", f"ho-{seed}-{i:05d}") for i in range(n)]


def write(lines: list[dict], path: str) -> None:
    """Atomic: a temporary file renamed over `path`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    lines = generate(args.n, args.seed)
    write(lines, args.out)
    pii = sum(len(x["pii"]) for x in lines)
    benign = sum(len(x["benign"]) for x in lines)
    print(f"lines={len(lines)} pii={pii} benign={benign} out={args.out}")


if __name__ == "__main__":
    main()
