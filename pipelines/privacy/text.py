"""De-identify dialogue text with the same recogniser registry as images (`media: text`).

JDDC 2.1 released its dialogue text with customers' names, addresses, phone and order numbers
replaced by placeholders; mmdial does the same for any free-text column: each personal value
becomes a typed placeholder, numbered by first appearance within one dialogue, so the same phone
number is `[PHONE_1]` every time it appears in a session and a second one is `[PHONE_2]`.

What stays: template markers that are not personal values (ReDial `@12345` movie mentions and
`[PH]`, MMD `[image]`, JDDC's own `[数字x]`/`[姓名x]`-style placeholders, ours) are protected
before recognition; product information (brands, shops, model numbers: recognisers whose `media`
excludes text, or whose entity is not personal) never becomes a placeholder and vetoes a
statistical name match over the same characters.

Cheap first: a pattern recogniser runs only when the text holds its registry-declared `requires`
(four digits for phones and numbers, `@` for e-mail, an address character for addresses), the
name models have their own character gates, and spans are memoised per text, so most utterances
cost a few regex scans.

Each replacement is recorded as (type, span in the input, recogniser names), never the value;
with a salt (`salt=` / `MMDIAL_DEID_SALT`) a salted sha256 of the value is added so that repeated
values can be linked across files without being readable.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field

from pipelines.privacy.engines import TextLine
from pipelines.privacy.recognizers import Match, RecognizerSet, memoised

#: entity (registry) -> placeholder type
TYPES = {
    "phone": "PHONE",
    "id_card": "ID_CARD",
    "bank_card": "BANK_CARD",
    "email": "EMAIL",
    "order_number": "ORDER_ID",
    "account": "ACCOUNT",
    "person_name": "PERSON",
    "address": "ADDRESS",
    "licence_plate": "PLATE",
}
TRACKING_RECOGNIZERS = ("tracking_ups", "tracking_upu", "tracking_carrier_cn")
#: when spans of several types overlap, the merged span takes the most specific type
PRIORITY = ("EMAIL", "ID_CARD", "BANK_CARD", "PHONE", "TRACKING_ID", "ORDER_ID", "PLATE", "ACCOUNT", "ADDRESS", "PERSON")
#: template markers that pass through untouched: `@123` mentions, bracketed placeholders without
#: a long digit run inside ([PH], [image], [数字x], [PHONE_1]), JDDC's `#E-s[...]`, `<PERSON>`
PROTECTED = re.compile(r"(?<![A-Za-z0-9._%+\-])@[0-9]+(?![0-9])|(?:#E-[0-9a-z]+)?\[(?![^\]]*[0-9]{5})[^\[\]\n@]{1,24}\]|<[A-Za-z_]{1,20}>")
ADDRESS_LABEL = re.compile(r".{0,6}?(?:收货地址|地址|住址|寄到|送到|发到|住在|寄往)(?:是|为|在|:|：)?\s*")
ADDRESS_TAIL = re.compile(  # building names in CJK or capitals and a number, never a date or an English word
    r"(?:[\s·\-#]*[\u4e00-\u9fffA-Z]{0,8}?[\s\-#]*[A-Z]{0,4}[0-9]+(?![0-9]*\s*[月日年/:.])[0-9A-Z\-#]*"
    r"(?:室|号|楼|层|座|栋|幢|单元|房|户)?)+"
)
LABEL_BEFORE = re.compile(r"([^\s，,。；;：:、]{1,12})\s*[:：#]?\s*$")
_LINE_BOX = ((0, 0), (1, 0), (1, 1), (0, 1))


@dataclass
class Dialogue:
    """Placeholder numbering for one dialogue (`[PHONE_1]` is the same value everywhere in it)."""

    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    per_type: dict[str, int] = field(default_factory=dict)

    def placeholder(self, typ: str, value: str) -> str:
        key = (typ, normalise(typ, value))
        if key not in self.ids:
            self.per_type[typ] = self.per_type.get(typ, 0) + 1
            self.ids[key] = self.per_type[typ]
        return f"[{typ}_{self.ids[key]}]"


def normalise(typ: str, value: str) -> str:
    """The same value written with other spacing, dashes or case is the same value."""
    if typ in ("PHONE", "ID_CARD", "BANK_CARD", "ORDER_ID", "TRACKING_ID"):
        v = re.sub(r"[^0-9A-Za-z*＊]", "", value).upper()
        return v[-11:] if typ == "PHONE" and len(v) > 11 and v.isdigit() else v  # +86 138... == 138...
    return re.sub(r"\s+", " ", value.strip()).lower()


@dataclass
class Replacement:
    type: str
    start: int
    end: int
    recognizers: tuple[str, ...]
    placeholder: str
    hash: str | None = None

    def record(self) -> dict:
        out = {
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "recognizer": ",".join(self.recognizers),
            "placeholder": self.placeholder,
        }
        if self.hash:
            out["hash"] = self.hash
        return out


class TextDeidentifier:
    """`deidentify(text, dialogue)` -> (text with placeholders, replacements). Built from the
    recogniser registry (`recognizer_files` extend it, as for images); pickles small."""

    def __init__(
        self, files: list[str] | None = None, vocabularies: dict | None = None, enabled: list[str] | None = None, salt: str | None = None
    ):
        self.files = list(files or [])
        self.vocabularies = dict(vocabularies or {})
        self.enabled = enabled
        self.salt = salt if salt is not None else os.environ.get("MMDIAL_DEID_SALT") or None
        self._set: RecognizerSet | None = None

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")} | {"_set": None}

    def config(self) -> dict:
        from pipelines.privacy.recognizers import registry_digest

        return {
            "registry_sha256": registry_digest(self.files),
            "enabled": self.enabled,
            "vocabularies": sorted(self.vocabularies),
            "hashed": bool(self.salt),
        }

    def setup(self) -> None:
        if self._set is None:
            self._set = RecognizerSet.build(self.enabled, self.vocabularies, self.files, medium="text")
            rs = self._set.recognizers
            self._gated = [(r, getattr(r, "gate", None)) for r in rs]
            self._kv = [r for r in rs if hasattr(r, "find_lines")]
            self._vetoes = [r for r in rs if hasattr(r, "vetoes")]
            self._cache: dict[str, list] = {}

    @property
    def names(self) -> list[str]:
        self.setup()
        return self._set.names

    def find(self, text: str) -> list[Match]:
        """Personal spans (entity in TYPES) and product spans (any other entity) in `text`."""
        self.setup()
        line = [TextLine(text, _LINE_BOX, 1.0)]
        out: list[Match] = []
        for r, gate in self._gated:
            if gate is None or gate.search(text) is not None:  # the registry's cheap pre-filter
                out += r.find(text)
        # (the key/value structure's across-line pairing needs OCR geometry: one chat line has none)
        if any(m.entity != "person_name" for m in out):
            out += self._set._names_beside_pii(line, [Match(m.start, m.end, m.entity, m.recognizer, line=0) for m in out])
        return out

    def spans(self, text: str) -> list[tuple[int, int, str, tuple[str, ...]]]:
        """Merged personal spans (start, end, type, recognisers), protected markers and product
        information left out. Memoised per text (greetings and agent templates repeat)."""
        self.setup()
        return memoised(self._cache, text, self._spans, 100_000)

    def _spans(self, text: str) -> list[tuple[int, int, str, tuple[str, ...]]]:
        protected = [m.span() for m in PROTECTED.finditer(text)]
        found = self.find(text)
        keep = [(m.start, m.end) for m in found if m.entity not in TYPES]
        hits = []
        for m in found:
            if m.entity not in TYPES or m.end <= m.start:
                continue
            if any(s < m.end and m.start < e for s, e in protected):
                continue
            stat = m.recognizer.endswith("_stats")
            if stat and any(s < m.end and m.start < e for s, e in keep):
                continue  # a brand or shop, not a person
            if m.entity == "person_name" and any(v.vetoes(text[m.start : m.end]) for v in self._vetoes):
                continue  # 联系方式, 让王师傅来安装: a word, not a name
            typ = "TRACKING_ID" if m.recognizer in TRACKING_RECOGNIZERS else TYPES[m.entity]
            if typ in ("ORDER_ID", "ACCOUNT") and self._after_product_key(text, m.start):
                continue  # SKU：100012043978, 商品编号 …: a product number, not an order
            hits.append((m.start, m.end, typ, m.recognizer))
        merged: list[list] = []
        for s, e, typ, rec in sorted(hits):
            if merged and s < merged[-1][1]:
                cur = merged[-1]
                cur[3].add(rec)
                cur[4].append((e - s, typ))
                cur[1] = max(cur[1], e)
            else:
                merged.append([s, e, None, {rec}, [(e - s, typ)]])
        out = []
        for s, e, _, recs, typs in merged:
            longest = max(n for n, _ in typs)
            typ = min((t for n, t in typs if n == longest), key=PRIORITY.index)
            if typ == "ADDRESS":  # 地址是杭州市…: the label stays readable, the address goes
                lead = ADDRESS_LABEL.match(text, s, e)
                if lead and e - lead.end() >= 6:
                    s = lead.end()
                tail = ADDRESS_TAIL.match(text, e)  # …朝阳区 望京SOHO T1 2001: building and room after the match
                if tail and tail.end() > e:
                    e = len(text[: tail.end()].rstrip())
            out.append((s, e, typ, tuple(sorted(recs))))
        return out

    def _after_product_key(self, text: str, start: int) -> bool:
        label = LABEL_BEFORE.search(text, max(0, start - 16), start)
        return bool(label) and any(kv.product_key(label.group(1)) for kv in self._kv)

    def deidentify(self, text: str | None, dialogue: Dialogue | None = None) -> tuple[str | None, list[Replacement]]:
        if not text:
            return text, []
        found = self.spans(text)
        if not found:
            return text, []
        dialogue = dialogue if dialogue is not None else Dialogue()
        parts, reps, pos = [], [], 0
        for s, e, typ, recs in found:
            ph = dialogue.placeholder(typ, text[s:e])
            parts += [text[pos:s], ph]
            reps.append(Replacement(typ, s, e, recs, ph, self._hash(typ, text[s:e])))
            pos = e
        parts.append(text[pos:])
        return "".join(parts), reps

    def _hash(self, typ: str, value: str) -> str | None:
        if not self.salt:
            return None
        return hashlib.sha256(f"{self.salt}\0{typ}\0{normalise(typ, value)}".encode()).hexdigest()[:32]
