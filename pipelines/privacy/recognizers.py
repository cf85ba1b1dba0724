"""PII recognisers over OCR text lines, each with a name and an entity type.

CJK-aware by construction: OCR'd Chinese has no spaces, so nothing here relies on `\\b` (CJK
characters are word characters to Python's `re`, so `号码13812345678` has no word boundary before
the digits). Digit runs are delimited with explicit `(?<![0-9])`/`(?![0-9])` look-arounds, ASCII
labels with `(?<![A-Za-z])`, and labelled values stop at the next known label in the same line
(`收货人：张伟 手机：138...`).

Three kinds:
- pattern recognisers (phones, ID cards, e-mail, long digit runs, addresses, store names, model
  numbers);
- label recognisers (`收货人`, `订单号`, `收货地址`, `name`, `order no.` ...) that take the value
  after the label, and, when a line holds only the label, the value line beside or below it
  (table layouts put label and value in separate OCR boxes);
- vocabulary recognisers (brands from the JDDC knowledge base, user lists of stores/brands/models),
  matched with a character trie (fast for tens of thousands of terms).

Every recogniser returns `Match(entity, recognizer, start, end)` spans over the line's text; the
masker turns spans into pixels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.privacy.engines import TextLine

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
STRONG_SEP = r"[\s:：]*"  # after a specific label (收货人张伟 is common in screenshots)
WEAK_SEP = r"(?:\s*[:：]\s*|\s+(?=[#+(0-9]))"  # after a generic word (店铺, name): a colon, or a number follows
STRONG_SHORT = ("姓名", "单号")


def is_strong(label: str) -> bool:
    """Specific labels may be glued to their value; generic words need a colon (chat text says 店铺 too)."""
    return (not label[0].isascii() and len(label) >= 3) or label in STRONG_SHORT


@dataclass(frozen=True, order=True)
class Match:
    start: int
    end: int
    entity: str
    recognizer: str
    line: int = -1  # index of the line in the image's OCR output (set by `recognise`)
    whole_line: bool = False  # the value is a whole separate line (label-only neighbour)


class Recognizer:
    """Base: subclasses have `name` (unique, recorded in the audit) and `entity` (the PII type)."""

    def find(self, text: str) -> list[Match]:
        raise NotImplementedError


@dataclass
class PatternRecognizer(Recognizer):
    """A regular expression; `check` can veto a hit (digit counts, checksums)."""

    name: str
    entity: str
    pattern: str
    flags: int = 0
    check: object = None  # callable(str) -> bool
    group: int = 0
    _re: re.Pattern = field(init=False, repr=False)

    def __post_init__(self):
        self._re = re.compile(self.pattern, self.flags)

    def find(self, text: str) -> list[Match]:
        out = []
        for m in self._re.finditer(text):
            s, e = m.span(self.group)
            if e > s and (self.check is None or self.check(text[s:e])):
                out.append(Match(s, e, self.entity, self.name))
        return out


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


# -- labels ----------------------------------------------------------------------------------
LABELS: dict[str, tuple[str, ...]] = {
    "person_name": (
        "收货人",
        "收件人",
        "寄件人",
        "联系人",
        "提货人",
        "签收人",
        "客户姓名",
        "买家姓名",
        "姓名",
        "买家",
        "consignee",
        "recipient",
        "receiver",
        "customer name",
        "full name",
        "name",
    ),
    "phone": ("联系电话", "手机号码", "手机号", "电话号码", "联系方式", "手机", "电话", "mobile", "phone", "tel"),
    "address": (
        "收货地址",
        "收件地址",
        "寄件地址",
        "配送地址",
        "详细地址",
        "取件地址",
        "地址",
        "shipping address",
        "delivery address",
        "address",
        "ship to",
    ),
    "order_number": (
        "订单编号",
        "订单号",
        "运单编号",
        "运单号",
        "快递单号",
        "物流单号",
        "售后单号",
        "服务单号",
        "退货单号",
        "退款编号",
        "订单号码",
        "order number",
        "order no.",
        "order no",
        "order id",
        "order #",
        "tracking number",
        "tracking no.",
        "tracking no",
        "waybill no.",
        "waybill no",
        "waybill",
    ),
    "store_name": ("店铺名称", "店铺名", "店铺", "商家名称", "商家", "卖家", "store", "shop", "seller"),
    "model_number": ("规格型号", "型号", "货号", "model no.", "model no", "model", "sku"),
    "account": ("用户名", "会员名", "昵称", "账号", "username", "user name", "nickname", "account"),
}

LABEL_VALUES: dict[str, str] = {
    "person_name": rf"[{CJK}·*＊]{{1,6}}|[A-Z][A-Za-z.'\-]*(?: [A-Z][A-Za-z.'\-]*){{0,3}}",
    "phone": r"\+?[0-9(][0-9()\s\-*＊]{4,}[0-9]",
    "address": r".*\S",
    "order_number": r"[A-Za-z0-9][A-Za-z0-9\-]{3,}(?: [0-9]{2,})*",
    "store_name": r".*\S",
    "model_number": r"[A-Za-z0-9][A-Za-z0-9\-_/.]*[A-Za-z0-9]",
    "account": r"\S+(?: \S+)?",
}


def _label_alt(labels: Iterable[str]) -> str:
    parts = []
    for lab in sorted(labels, key=len, reverse=True):
        esc = re.escape(lab).replace(r"\ ", r"\s*")
        parts.append(rf"(?<![A-Za-z]){esc}(?![A-Za-z])" if lab[0].isascii() else esc)
    return "|".join(parts)


ALL_LABELS_RE = re.compile(_label_alt([lab for labs in LABELS.values() for lab in labs]), re.IGNORECASE)


@dataclass
class LabelRecognizer(Recognizer):
    """`<label><sep><value>`: the value (not the label) is the PII. The value stops at the next label."""

    name: str
    entity: str
    labels: tuple[str, ...]
    value: str
    _label_re: re.Pattern = field(init=False, repr=False)
    _value_re: re.Pattern = field(init=False, repr=False)
    _only_re: re.Pattern = field(init=False, repr=False)

    def __post_init__(self):
        strong = [lab for lab in self.labels if is_strong(lab)]
        weak = [lab for lab in self.labels if not is_strong(lab)]
        alts = [f"(?:{_label_alt(strong)}){STRONG_SEP}"] if strong else []
        alts += [f"(?:{_label_alt(weak)}){WEAK_SEP}"] if weak else []
        # OCR misreads one character of a label on blurred images (收赁人：): long CJK labels
        # also match with any one character wrong, when a colon follows
        fuzzy = sorted(
            {
                re.escape(lab[:i]) + f"[{CJK}]" + re.escape(lab[i + 1 :])
                for lab in strong
                if len(lab) >= 3 and not lab[0].isascii()
                for i in range(len(lab))
            },
            key=len,
            reverse=True,
        )
        alts += [f"(?:{'|'.join(fuzzy)})\\s*[:：]\\s*"] if fuzzy else []
        self._label_re = re.compile("|".join(alts), re.IGNORECASE)
        self._value_re = re.compile(self.value)
        only = [f"(?:{_label_alt(strong)})\\s*[:：]?"] if strong else []
        only += [f"(?:{_label_alt(weak)})\\s*[:：]"] if weak else []
        self._only_re = re.compile(rf"^\s*(?:{'|'.join(only)})\s*$", re.IGNORECASE)

    def find(self, text: str) -> list[Match]:
        out = []
        for m in self._label_re.finditer(text):
            start = m.end()
            nxt = ALL_LABELS_RE.search(text, start)
            stop = nxt.start() if nxt else len(text)
            v = self._value_re.match(text[:stop], start)
            if v and v.end() > v.start():
                s, e = v.start(), v.end()
                while e > s and text[e - 1] in " ,，;；":
                    e -= 1
                if e > s:
                    out.append(Match(s, e, self.entity, self.name))
        return out

    def label_only(self, text: str) -> bool:
        return bool(self._only_re.match(text))


# -- vocabularies ----------------------------------------------------------------------------
@dataclass
class VocabRecognizer(Recognizer):
    """Known strings (brands, stores, models): longest match at each position, case-insensitive.

    ASCII terms must not touch ASCII letters/digits on either side (`Sony` not in `Sonya`); CJK
    terms match anywhere (no word boundaries in Chinese).
    """

    name: str
    entity: str
    terms: Iterable[str] = ()
    min_len: int = 2
    _trie: dict = field(init=False, repr=False)
    size: int = field(init=False, default=0)

    def __post_init__(self):
        self._trie = {}
        for t in self.terms:
            t = str(t).strip().lower()
            if len(t) < self.min_len:
                continue
            node = self._trie
            for ch in t:
                node = node.setdefault(ch, {})
            if "\0" not in node:
                self.size += 1
            node["\0"] = True

    def find(self, text: str) -> list[Match]:
        low = text.lower()
        out = []
        i = 0
        n = len(low)
        while i < n:
            node = self._trie
            j = i
            best = -1
            while j < n and low[j] in node:
                node = node[low[j]]
                j += 1
                if "\0" in node:
                    best = j
            if best > 0 and self._bounded(low, i, best):
                out.append(Match(i, best, self.entity, self.name))
                i = best
            else:
                i += 1
        return out

    @staticmethod
    def _bounded(text: str, s: int, e: int) -> bool:
        def alnum(c: str) -> bool:
            return c.isascii() and c.isalnum()

        if alnum(text[s]) and s > 0 and alnum(text[s - 1]):
            return False
        if alnum(text[e - 1]) and e < len(text) and alnum(text[e]):
            return False
        return True


def load_vocab(path: str) -> list[str]:
    """Terms from a text file (one per line, `#` comments) or JSON/JSONL (`term`/`value`/`name` keys, or strings)."""
    from pipelines.core import io

    data = io.read_bytes(path).decode("utf-8-sig")
    terms: list[str] = []
    if path.endswith((".json", ".jsonl")):
        items = json.loads(data) if path.endswith(".json") else [json.loads(line) for line in data.splitlines() if line.strip()]
        for it in items:
            if isinstance(it, str):
                terms.append(it)
            elif isinstance(it, dict):
                terms.extend(str(it[k]) for k in ("term", "value", "name") if it.get(k))
        return terms
    for line in data.splitlines():
        line = line.split("#", 1)[0].strip() if not line.startswith("\\#") else line[1:].strip()
        if line:
            terms.append(line)
    return terms


KB_BRAND_ATTRIBUTES = ("品牌", "品牌名称", "brand", "brand name")


def load_kb_brands(path: str, attributes: Iterable[str] = KB_BRAND_ATTRIBUTES) -> list[str]:
    """Brand values from the JDDC knowledge base (kb.tsv `sku<TAB>attribute<TAB>value` or kb.jsonl)."""
    from pipelines.core import io

    wanted = {a.lower() for a in attributes}
    out: set[str] = set()
    data = io.read_bytes(path).decode("utf-8-sig")
    for line in data.splitlines():
        if not line.strip():
            continue
        if path.endswith(".jsonl"):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            attr, value = str(rec.get("attribute", "")), str(rec.get("value", ""))
        else:
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            attr, value = parts[1], parts[2]
        if attr.strip().lower() in wanted:
            # "华为（HUAWEI）" names the brand twice: keep both spellings
            for piece in re.split(r"[（）()/|]", value):
                if piece.strip():
                    out.add(piece.strip())
    return sorted(out)


# -- the built-in set --------------------------------------------------------------------------
def _intl_ok(s: str) -> bool:
    return 8 <= _digits(s) <= 15


def _model_ok(s: str) -> bool:
    return len(s) >= 5 and sum(c.isalpha() for c in s) >= 2 and _digits(s) >= 2


def builtin_recognizers() -> list[Recognizer]:
    nd = r"(?<![0-9])"
    na = r"(?![0-9])"
    out: list[Recognizer] = [
        PatternRecognizer("phone_cn_mobile", "phone", rf"{nd}(?:\+?86[\s\-]?)?1[3-9][0-9](?:[\s\-]?[0-9]{{4}}){{2}}{na}"),
        PatternRecognizer("phone_cn_mobile_masked", "phone", rf"{nd}1[3-9][0-9][*＊xX]{{4}}[0-9]{{4}}{na}"),
        PatternRecognizer(
            "phone_cn_landline",
            "phone",
            rf"{nd}(?:\(0[0-9]{{2,3}}\)|（0[0-9]{{2,3}}）|0[0-9]{{2,3}})[\s\-]?[0-9]{{7,8}}(?:[\s\-]?(?:转|ext\.?)\s*[0-9]{{1,5}})?{na}",
        ),
        PatternRecognizer("phone_cn_service", "phone", rf"{nd}[48]00[\s\-]?[0-9]{{3}}[\s\-]?[0-9]{{4}}{na}"),
        PatternRecognizer(
            "phone_intl", "phone", rf"(?<![0-9A-Za-z+])\+[0-9]{{1,3}}(?:[\s.\-]?\(?[0-9]{{1,5}}\)?){{2,5}}{na}", check=_intl_ok
        ),
        PatternRecognizer(
            "id_card_cn",
            "id_card",
            rf"{nd}[1-9][0-9]{{5}}(?:18|19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{{3}}[0-9Xx](?![0-9A-Za-z])",
        ),
        PatternRecognizer("email", "email", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
        PatternRecognizer("long_digit_run", "order_number", rf"(?<![0-9A-Za-z])(?:[A-Z]{{1,4}})?[0-9]{{10,}}{na}"),
        PatternRecognizer(
            "address_cn",
            "address",
            rf"(?:[{CJK}A-Za-z0-9\-#]{{1,12}}?(?:省|自治区|特别行政区|市|区|县|旗|镇|乡|街道|大道|路|街|巷|弄|胡同|村|小区|花园|公寓|大厦|号楼|栋|幢|单元|室|层|号)){{2,}}(?:[0-9A-Za-z\-#]*)",
        ),
        PatternRecognizer(
            "address_en",
            "address",
            r"(?<![0-9A-Za-z])[0-9]{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,4}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl)\b\.?"
            r"(?:,?\s*(?:Apt|Suite|Unit|Flat)\.?\s*[0-9A-Za-z\-]+)?(?:,\s*[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+)?)*(?:,?\s*[A-Z]{2}\s*[0-9]{5})?",
        ),
        PatternRecognizer(
            "store_name_cn", "store_name", rf"[{CJK}A-Za-z0-9]{{1,12}}(?:官方旗舰店|旗舰店|专营店|专卖店|自营店|官方店|企业店)"
        ),
        PatternRecognizer("model_number", "model_number", r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*(?![A-Za-z0-9])", check=_model_ok),
    ]
    for entity, labels in LABELS.items():
        out.append(LabelRecognizer(f"label_{entity}", entity, labels, LABEL_VALUES[entity]))
    return out


BUILTIN_NAMES = tuple(r.name for r in builtin_recognizers())


@dataclass
class RecognizerSet:
    """The recognisers a policy enables, plus any vocabularies; `recognise(lines)` -> matches per image."""

    recognizers: list[Recognizer]

    @classmethod
    def build(cls, enabled: Iterable[str] | None = None, vocabularies: dict[str, dict] | None = None) -> RecognizerSet:
        builtin = {r.name: r for r in builtin_recognizers()}
        names = list(enabled) if enabled is not None else list(builtin)
        unknown = [n for n in names if n not in builtin and n not in (vocabularies or {})]
        if unknown:
            raise ValueError(f"unknown recognizer(s) {unknown}; built-in: {sorted(builtin)}")
        chosen: list[Recognizer] = [builtin[n] for n in names if n in builtin]
        for name, spec in sorted((vocabularies or {}).items()):
            terms: list[str] = list(spec.get("terms", []))
            for path in spec.get("files", []):
                terms += load_vocab(path)
            for path in spec.get("kb", []):
                terms += load_kb_brands(path)
            chosen.append(VocabRecognizer(name, spec.get("entity", "brand"), terms, min_len=int(spec.get("min_len", 2))))
        return cls(chosen)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.recognizers]

    def recognise(self, lines: list[TextLine]) -> list[Match]:
        out: list[Match] = []
        for i, line in enumerate(lines):
            for r in self.recognizers:
                for m in r.find(line.text):
                    out.append(Match(m.start, m.end, m.entity, m.recognizer, line=i))
        out += self._neighbour_values(lines)
        return sorted(out, key=lambda m: (m.line, m.start, m.end, m.recognizer))

    def _neighbour_values(self, lines: list[TextLine]) -> list[Match]:
        """A line that is only a label (`收货人：`) marks the line to its right (same row) or just below."""
        out = []
        labelers = [r for r in self.recognizers if isinstance(r, LabelRecognizer)]
        for i, line in enumerate(lines):
            for r in labelers:
                if not r.label_only(line.text):
                    continue
                j = _value_neighbour(lines, i)
                if j is not None:
                    out.append(Match(0, len(lines[j].text), r.entity, r.name + "_neighbour", line=j, whole_line=True))
                break
        return out


def _bbox(poly) -> tuple[float, float, float, float]:
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return min(xs), min(ys), max(xs), max(ys)


def _value_neighbour(lines: list[TextLine], i: int) -> int | None:
    x0, y0, x1, y1 = _bbox(lines[i].polygon)
    h = max(y1 - y0, 1.0)
    cy = (y0 + y1) / 2
    best, best_d = None, None
    for j, other in enumerate(lines):  # same row, to the right
        if j == i:
            continue
        a0, b0, a1, b1 = _bbox(other.polygon)
        if abs((b0 + b1) / 2 - cy) <= 0.6 * h and a0 >= x1 - 0.5 * h:
            d = a0 - x1
            if d <= 12 * h and (best_d is None or d < best_d):
                best, best_d = j, d
    if best is not None:
        return best
    for j, other in enumerate(lines):  # just below, overlapping horizontally
        if j == i:
            continue
        a0, b0, a1, b1 = _bbox(other.polygon)
        if 0 <= b0 - y1 + 0.3 * h <= 1.8 * h and a0 <= x1 + h and a1 >= x0:
            d = b0 - y1
            if best_d is None or d < best_d:
                best, best_d = j, d
    return best
