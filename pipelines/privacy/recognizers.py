"""PII recognisers over OCR text lines, declared as data (`recognizers.yaml`).

Why data: real screenshots use far more label words and layouts than any list in code, so the
recognisers are (1) value-shape patterns with checksums (Luhn, ID-card checksum) that hold in
any spacing, (2) cues (微信/QQ/我叫/my name is ...) followed by a value of a given shape, (3) a
surname table for Chinese names and (4) one *structure* recogniser that groups OCR lines into
key/value pairs by geometry and punctuation and decides from the key's shape (a Chinese key ending in
人/名/号/址, an English key holding name/phone/address/no. ...) and the value's shape whether the value is personal.
A user adds or replaces recognisers with another YAML file (`recognizer_files`), no code.

Presidio's registry was the model (named recognisers, regex + context words + deny lists, YAML),
but presidio-analyzer is not used: its `AnalyzerEngine` needs an NLP engine (a spaCy/Stanza model
download), its context words work on that engine's tokens (Chinese OCR text has no spaces), and
it has no notion of OCR geometry. See pipelines/privacy/README.md.

CJK-aware by construction: nothing relies on `\\b` (CJK characters are word characters to
Python's `re`, so `号码13812345678` has no word boundary); digit runs use explicit look-arounds.
Every recogniser returns `Match(start, end, entity, recognizer)` spans over a line's text; the
masker turns spans into pixels, and the audit records each mask's recogniser names.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

import yaml

from pipelines.privacy.engines import TextLine

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
MACROS = {
    "{ND}": r"(?<![0-9])",
    "{NA}": r"(?![0-9])",
    "{NW}": r"(?<![0-9A-Za-z])",
    "{NWA}": r"(?![0-9A-Za-z])",
    "{CJK}": CJK,
}


def expand(regex: str) -> str:
    for k, v in MACROS.items():
        regex = regex.replace(k, v)
    return regex


@dataclass(frozen=True, order=True)
class Match:
    start: int
    end: int
    entity: str
    recognizer: str
    line: int = -1  # index of the line in the image's OCR output (set by `recognise`)
    whole_line: bool = False  # the value is a whole separate line (a key alone on its line)


class Recognizer:
    """Base: `name` (unique, recorded in the audit), `entity` (the PII type), `find(text)`."""

    name: str
    entity: str

    def find(self, text: str) -> list[Match]:
        raise NotImplementedError


# -- checks ---------------------------------------------------------------------------------
def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def luhn(s: str) -> bool:
    d = _digits(s)
    if not 13 <= len(d) <= 19 or len(set(d)) == 1:
        return False
    total = 0
    for i, ch in enumerate(reversed(d)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_id(s: str) -> bool:
    """GB 11643-1999 checksum of an 18-character resident ID number."""
    t = re.sub(r"[\s\-]", "", s).upper()
    if len(t) != 18 or not t[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(t[:17], CN_ID_WEIGHTS))
    return "10X98765432"[total % 11] == t[17]


def model_shape(s: str) -> bool:
    return len(s) >= 5 and sum(c.isalpha() for c in s) >= 2 and len(_digits(s)) >= 2


def plate_has_digit(s: str) -> bool:
    return len(_digits(s)) >= 2


DATE_TIME = re.compile(r"(?:19|20)[0-9]{2}[\-/.年]\s?[01]?[0-9][\-/.月]\s?[0-3]?[0-9]|[0-2]?[0-9]:[0-5][0-9]")


def not_datetime(s: str) -> bool:
    """Order times (2024-03-01 12:30:11) are long digit runs too, but not personal."""
    return not DATE_TIME.search(s)


def make_check(spec: str):
    if spec.startswith("digits:"):
        lo, _, hi = spec[7:].partition("-")
        lo_n, hi_n = int(lo), int(hi or lo)
        return lambda s: lo_n <= len(_digits(s)) <= hi_n
    named = {
        "luhn": luhn,
        "cn_id": cn_id,
        "model_shape": model_shape,
        "plate_has_digit": plate_has_digit,
        "not_datetime": not_datetime,
    }
    if spec not in named:
        raise ValueError(f"unknown check {spec!r}; known: digits:MIN-MAX, {sorted(named)}")
    return named[spec]


# -- pattern and cue recognisers ---------------------------------------------------------------
@dataclass
class PatternRecognizer(Recognizer):
    """Regexes anywhere in a line; `checks` veto a hit; `context` words (if any) must precede it."""

    name: str
    entity: str
    patterns: tuple[str, ...]
    checks: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    context_window: int = 12
    requires: str | None = None  # a cheap regex the text must contain before the patterns run
    _res: list = field(init=False, repr=False)
    _checks: list = field(init=False, repr=False)

    def __post_init__(self):
        self.gate = re.compile(expand(self.requires)) if self.requires else None
        self._res = [re.compile(expand(p)) for p in self.patterns]
        self._checks = [make_check(c) for c in self.checks]
        self._ctx = [c.lower() for c in self.context]

    def find(self, text: str) -> list[Match]:
        out = []
        for rx in self._res:
            for m in rx.finditer(text):
                s, e = m.span()
                while e > s and text[e - 1].isspace():
                    e -= 1
                if e <= s or not all(c(text[s:e]) for c in self._checks):
                    continue
                if self._ctx and not any(w in text[max(0, s - self.context_window) : s].lower() for w in self._ctx):
                    continue
                out.append(Match(s, e, self.entity, self.name))
        return out


@dataclass
class CueRecognizer(Recognizer):
    """`<cue><value>`: the value (of shape `value`) right after a cue word is masked."""

    name: str
    entity: str
    cues: tuple[str, ...]
    value: str
    deny: tuple[str, ...] = ()

    def __post_init__(self):
        self._re = re.compile("(?:" + "|".join(expand(c) for c in self.cues) + ")(" + expand(self.value) + ")")
        self._deny = {d.lower() for d in self.deny}

    def find(self, text: str) -> list[Match]:
        out = []
        for m in self._re.finditer(text):
            s, e = m.span(1)
            words = text[s:e].split()
            while words and words[0].lower().strip(".") in self._deny:  # "Hi Team" is not a name
                s = text.index(words[1], s + len(words[0])) if len(words) > 1 else e
                words = words[1:]
            while words and words[-1].lower().strip(".") in self._deny:
                e = s + text[s:e].rindex(words[-1])
                e = len(text[:e].rstrip()) if e > s else s
                words = words[:-1]
            if e > s and words:
                out.append(Match(s, e, self.entity, self.name))
        return out


# -- Chinese person names -----------------------------------------------------------------------
FUNCTION_CHARS = set(
    "的了在吗呢吧啊呀哦嗯是和跟与及或我你您他她它们电手订地住收寄请要这那有没不也都就还给到说从把被让对为以上下中里外个件号码单已未等"
)
PUNCT_BOUNDARY = set(" \t,，。.!！?？:：;；、()（）[]【】<>《》\"'“”‘’/|~-—_")


@dataclass
class ZhPersonRecognizer(Recognizer):
    """Chinese names: a surname from the table (single or compound) + one or two given-name
    characters, after a cue (我叫, 收件人是 ...) or before a title (先生, 师傅 ...)."""

    name: str
    entity: str
    single: str
    compound: tuple[str, ...]
    before: tuple[str, ...]
    after: tuple[str, ...]
    stop_values: tuple[str, ...] = ()

    def __post_init__(self):
        self._single = set(self.single)
        self._compound = set(self.compound)
        self._stop = set(self.stop_values)
        self._before = re.compile("|".join(re.escape(c) for c in sorted(self.before, key=len, reverse=True)))
        self._after = re.compile("|".join(re.escape(c) for c in sorted(self.after, key=len, reverse=True)))
        self._title = set(self.after)

    def surname_len(self, text: str, i: int) -> int:
        if text[i : i + 2] in self._compound:
            return 2
        return 1 if i < len(text) and text[i] in self._single else 0

    def name_at(self, text: str, i: int, max_given: int = 2, min_given: int = 1) -> int:
        """End of a name starting at i (0 if none): surname + given characters (CJK, not function words)."""
        k = self.surname_len(text, i)
        if not k:
            return 0
        j = i + k
        g = 0
        while g < max_given and j < len(text) and _is_cjk(text[j]) and text[j] not in FUNCTION_CHARS:
            if any(text.startswith(t, j) for t in self._title):
                break
            j += 1
            g += 1
        while j < len(text) and text[j] in "*＊" and g < 3:  # 张** (a masked given name is still a name)
            j += 1
            g += 1
        if g < min_given or text[i:j] in self._stop or any(text[i:j].startswith(s) for s in self._stop if len(s) >= 2):
            return 0
        return j

    def _name_before(self, text: str, s: int) -> int | None:
        """Start of the name that ends at s (before a title): a surname two characters back
        (王伟先生, 王明先生), else one back (麻烦张先生), else a compound surname."""

        def ok(i: int) -> bool:
            return i >= 0 and all(_is_cjk(c) and c not in FUNCTION_CHARS for c in text[i:s])

        if ok(s - 4) and text[s - 4 : s - 2] in self._compound:
            return s - 4
        if ok(s - 3) and text[s - 3 : s - 1] in self._compound:
            return s - 3
        if ok(s - 2) and text[s - 2] in self._single and text[s - 2 : s] not in self._stop:
            return s - 2
        if ok(s - 1) and text[s - 1] in self._single:
            return s - 1
        return None

    def is_name(self, value: str) -> bool:
        v = value.strip()
        for t in sorted(self._title, key=len, reverse=True):  # 王先生, 李师傅
            if v.endswith(t) and len(v) > len(t):
                v = v[: -len(t)]
                if self.surname_len(v, 0) and len(v) <= 3:
                    return True
                break
        return 2 <= len(v) <= 4 and self.name_at(v, 0) == len(v)

    def find(self, text: str) -> list[Match]:
        out = []
        for m in self._before.finditer(text):
            i = m.end()
            while i < len(text) and text[i] in " :：":
                i += 1
            if text[i : i + 1] in ("是", "为") and m.group() not in ("我是",):
                i += 1
            e = self.name_at(text, i)
            if e:
                out.append(Match(i, e, self.entity, self.name))
        for m in self._after.finditer(text):
            s = m.start()
            if m.group() in ("收", "总", "姐", "哥") and not (s >= 2 and self.surname_len(text, s - 2)):
                continue  # one-character titles only after a full name (王伟收)
            i = self._name_before(text, s)
            if i is not None:
                out.append(Match(i, s, self.entity, self.name))
        # 我姓王
        for m in re.finditer("(?:姓|免贵姓)", text):
            i = m.end()
            k = self.surname_len(text, i)
            if k and (i + k == len(text) or not _is_cjk(text[i + k]) or text[i + k] in FUNCTION_CHARS):
                out.append(Match(i, i + k, self.entity, self.name))
        return out


def _is_cjk(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"


_EN_NAME_WORD = r"(?:[A-Z][a-z'\-]+|[A-Z]\.|[A-Z]{2,}(?=\s[A-Z]))"
EN_NAME_RE = re.compile(rf"(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?\s)?{_EN_NAME_WORD}(?:\s{_EN_NAME_WORD}){{0,3}}")


# -- the key/value structure --------------------------------------------------------------------
COLONS = ":："
TRIM = " \t,，;；。.、|"


def _bbox(poly) -> tuple[float, float, float, float]:
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return min(xs), min(ys), max(xs), max(ys)


def memoised(cache: dict, key, compute, limit: int):
    """`compute(key)` through a dict bounded to `limit` entries (cleared when full): for pure
    functions of short texts that repeat (keys on screenshots, chat templates)."""
    hit = cache.get(key)
    if hit is None:
        if len(cache) > limit:
            cache.clear()
        hit = cache[key] = compute(key)
    return hit


#: money and measured quantities (a currency, decimals or a unit): benign values under any key
BENIGN_VALUE = re.compile(
    r"(?:[¥￥$€£]|RMB|CNY|USD)\s*-?[0-9][0-9,]*(?:\.[0-9]{1,2})?(?:\s*元)?"
    r"|-?[0-9][0-9,]*\.[0-9]{1,2}\s*(?:元|块)?"
    r"|-?[0-9][0-9,]*\s*(?:元|块|件|个|台|套|盒|箱|瓶|袋|kg|g|ml|L|%|分|星|pcs|items?)",
    re.I,
)
VALUE_SEPARATOR = re.compile(r"\s*[,，;；|/、]\s*|\s{2,}")


@dataclass
class KeyRule:
    entity: str
    zh_suffixes: tuple[str, ...] = ()
    zh_contains: tuple[str, ...] = ()
    en_words: tuple[str, ...] = ()
    en_exact: tuple[str, ...] = ()
    value: str = "text"


class KeyValueRecognizer(Recognizer):
    """Groups OCR lines into key/value pairs and masks the values that personal keys announce.

    Pairs: `key: value` (one or several per line, full- or half-width colon), `key value` at the
    start of a line (space or glued, when the value's shape fits the key), and a key alone on its
    line whose value is the nearest line to its right on the same row or just below it (forms,
    label-above-value cards, table columns). The key's shape gives candidate entities (in rule
    order), the value's shape picks the first that fits; excluded keys (product name, price ...)
    announce nothing, so their values stay readable.
    """

    def __init__(self, name: str, spec: dict, person: ZhPersonRecognizer | None, deny: Iterable[str] = ()):
        self.name = name
        self.deny = {d.lower() for d in deny}  # words that are never (part of) an English name
        self.entity = "key_value"
        self.person = person
        self.max_zh = int(spec.get("max_key_chars_zh", 7))
        self.max_en = int(spec.get("max_key_words_en", 4))
        ex = spec.get("exclude") or {}
        self.ex_zh = tuple(ex.get("zh") or ())
        self.ex_en = tuple(w.lower() for w in ex.get("en") or ())
        product = spec.get("product_keys") or {}  # keys that name product attributes: never personal
        self.product_zh = tuple(product.get("zh") or ())
        self._product_en = [re.compile(r"(?<![a-z0-9])" + re.escape(str(w).lower()) + r"(?![a-z0-9])") for w in product.get("en") or ()]
        self.rules = [
            KeyRule(
                r["entity"],
                tuple(r.get("zh_suffixes") or ()),
                tuple(r.get("zh_contains") or ()),
                tuple(str(w).lower() for w in r.get("en_words") or ()),
                tuple(str(w).lower() for w in r.get("en_exact") or ()),
                r.get("value", "text"),
            )
            for r in spec.get("entities") or []
        ]
        self.values = {k: re.compile(expand(v), re.S) for k, v in (spec.get("values") or {}).items() if v != "person"}
        self.min_digits = int(spec.get("number_min_digits", 4))
        self.single_char_keys = dict(spec.get("single_char_keys") or {})
        self.default_mask = bool(spec.get("default_mask", False))
        self._en_word_res = {w: re.compile(r"(?<![a-z0-9])" + re.escape(w) + r"(?![a-z0-9])") for r in self.rules for w in r.en_words}
        self._key_cache: dict[str, list[KeyRule]] = {}
        self._en_ex_res = [re.compile(r"(?<![a-z0-9])" + re.escape(w) + r"(?![a-z0-9])") for w in self.ex_en]

    # -- shapes ------------------------------------------------------------------------------
    def product_key(self, key: str) -> bool:
        """The key names a product attribute or a non-personal code (型号, SKU, 取件码)."""
        k = key.strip(TRIM + COLONS)
        return any(w in k for w in self.product_zh) or any(rx.search(k.lower()) for rx in self._product_en)

    def key_entities(self, key: str) -> list[KeyRule]:
        """Rules a key announces ([] = not a personal key). Contains-matches beat exclusions.
        Memoised per key text: keys repeat across lines and images, and this is the hot path."""
        return memoised(self._key_cache, key, self._key_entities, 50_000)

    def _key_entities(self, key: str) -> list[KeyRule]:
        k = key.strip(TRIM + COLONS + "*＊·•>《》【】[]")
        if not k or len(k) > 40 or sum(c.isdigit() for c in k) > 1:
            return []
        has_cjk = any(_is_cjk(c) for c in k)
        low = k.lower()
        if has_cjk:
            core = "".join(c for c in k if not c.isspace())
            if len(core) > self.max_zh or len(core) < 2:
                return []
            if any(w in core for w in self.product_zh):
                return []
            strong = [r for r in self.rules if any(w in core for w in r.zh_contains)]
            if strong:
                return strong
            if any(w in core for w in self.ex_zh):
                return []
            return [r for r in self.rules if any(core.endswith(s) for s in r.zh_suffixes)]
        words = low.replace(".", ". ").split()
        if not words or len(words) > self.max_en or not all(re.fullmatch(r"[a-z#.'/&\-]+", w) for w in words):
            return []
        if any(rx.search(low) for rx in self._product_en):
            return []
        exact = [r for r in self.rules if low.strip(" .") in r.en_exact]
        if exact:
            return exact
        if any(rx.search(low) for rx in self._en_ex_res):
            return []
        # the head noun comes last in English ("Account holder" is a person, "Holder account" an account)
        hits = []
        for n, r in enumerate(self.rules):
            ends = [m.end() for w in r.en_words for m in self._en_word_res[w].finditer(low)]
            if ends:
                hits.append((-max(ends), n, r))
        return [r for _, _, r in sorted(hits, key=lambda x: (x[0], x[1]))]

    def value_fits(self, rule: KeyRule, value: str) -> bool:
        v = value.strip(TRIM)
        if not v:
            return False
        if rule.value == "person":
            return self.is_person(v)
        rx = self.values.get(rule.value)
        if rx is None or not rx.fullmatch(v):
            return False
        if rule.value == "number":
            return sum(c.isdigit() for c in v) >= self.min_digits
        if rule.value == "phone":
            return sum(c.isdigit() for c in v) >= 6
        return True

    def is_person(self, v: str) -> bool:
        if self.person is not None and any(_is_cjk(c) for c in v):
            return self.person.is_name(v.replace(" ", ""))
        if any(w.lower().strip(".") in self.deny for w in v.split()):
            return False
        return bool(EN_NAME_RE.fullmatch(v))

    STRICT = ("person", "phone", "number")

    def pick(self, key: str, value: str, strict: bool = False) -> KeyRule | None:
        """The first rule the key announces whose value shape fits; `strict` (no colon between key
        and value) allows only the tight shapes (a name, a phone, a number), and English names of
        two words or more (`Customer Service` is a title, not a customer called Service)."""
        for r in self.key_entities(key):
            if strict and r.value == "account":  # glued: an id-like value only (letters with digits or _), not words
                if not (self.value_fits(r, value) and re.search(r"[0-9_]", value) and not value.strip().isdigit()):
                    continue
                return r
            if strict and (r.value not in self.STRICT or (r.value == "person" and value.isascii() and len(value.split()) < 2)):
                continue
            if self.value_fits(r, value):
                return r
        return None

    def _unknown_key_personal(self, key: str, value: str) -> bool:
        """The default flipped inside a key/value structure: a label the registry does not know
        (neither personal nor benign: not excluded, not a product key) whose value is an
        identifier (six or more digits, or letters mixed with three or more digits) is masked,
        unless the value is money, a date or time, or a quantity. Recorded as `key_value_default`."""
        k = key.strip(TRIM + COLONS)
        if not k or self.product_key(k) or self._excluded(k):
            return False
        v = value.strip()
        if BENIGN_VALUE.fullmatch(v) or DATE_TIME.search(v):
            return False
        digits = sum(c.isdigit() for c in v)
        return digits >= 6 or (
            digits >= 3 and re.fullmatch(r"[A-Za-z0-9_\-.@]{6,40}", v) is not None and re.search("[A-Za-z]", v) is not None
        )

    def _excluded(self, k: str) -> bool:
        if any(_is_cjk(c) for c in k):
            return any(w in k for w in self.ex_zh)
        return any(rx.search(k.lower()) for rx in self._en_ex_res)

    def pick_prefix(self, key: str, value: str) -> tuple[KeyRule, int] | None:
        """(rule, length) for the value, or for its first part up to a separator when the whole
        does not fit (`Name: John Smith, Phone +1 415 ...`: the name ends at the comma)."""
        rule = self.pick(key, value)
        if rule is not None:
            return rule, len(value)
        cut = VALUE_SEPARATOR.search(value)
        if cut and cut.start() > 0:
            head = value[: cut.start()].strip(TRIM)
            rule = self.pick(key, head) if head else None
            if rule is not None:
                return rule, len(head)
        return None

    # -- one line ----------------------------------------------------------------------------
    def _key_start(self, text: str, lo: int, colon: int) -> int:
        """Where the key before `colon` starts (the previous value ends there)."""
        seg = text[lo:colon]
        stripped = seg.rstrip()
        if not stripped.strip():
            return colon
        end = lo + len(stripped)
        # English: the trailing words (1..max) that form a key-shaped phrase, shortest first
        if not _is_cjk(stripped[-1]):
            spaces = [m.start() for m in re.finditer(r"\s+", stripped)]
            starts = [lo + s + len(re.match(r"\s+", stripped[s:]).group()) for s in reversed(spaces)][: self.max_en] + [lo]
            first_any = None
            for s in starts:
                if self.key_entities(text[s:end]):
                    return s
                first_any = first_any if first_any is not None else s
            return starts[0] if len(starts) > 1 else lo
        # CJK: the whole trailing run when a space delimits it (刘德华 下单人), else the shortest
        # key-shaped trailing run (>= 2 characters: 张伟手机 -> 手机), else the whole run
        run = 0
        while run < len(stripped) and _is_cjk(stripped[-1 - run]):
            run += 1
        if run <= self.max_zh and (run == len(stripped) or stripped[-1 - run].isspace()) and self.key_entities(stripped[-run:]):
            return end - run
        for n in range(2, min(run, self.max_zh) + 1):
            if self.key_entities(stripped[-n:]):
                return end - n
        return end - min(run, self.max_zh)

    def find(self, text: str) -> list[Match]:
        out: list[Match] = []
        colons = [
            i for i, c in enumerate(text) if c in COLONS and not (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit())
        ]
        if colons:
            keys = []  # (key_start, colon)
            lo = 0
            for c in colons:
                seg = text[lo:c].strip()
                whole = lo == 0 and (len(seg.split()) <= self.max_en if seg.isascii() else len(seg) <= self.max_zh)
                # the first key of a line is its whole segment when short (`Product name:`)
                keys.append((lo + text[lo:c].index(seg) if whole and seg else self._key_start(text, lo, c), c))
                lo = c + 1
            if keys[0][0] > 0:  # `收货人张伟 手机：...`: the text before the first key
                out += self._pair_without_colon(text[: keys[0][0]])
            for n, (ks, c) in enumerate(keys):
                vs = c + 1
                ve = keys[n + 1][0] if n + 1 < len(keys) else len(text)
                raw = text[vs:ve]
                value = raw.strip(TRIM)
                if not value:
                    continue
                s = vs + raw.index(value)
                if self.product_key(VALUE_SEPARATOR.split(text[keys[n - 1][1] + 1 if n else 0 : c])[-1]):
                    continue  # `…, pickup code: 4-2-1188`: the whole label names a product attribute or code
                picked = self.pick_prefix(text[ks:c], value)
                if picked is not None:
                    out.append(Match(s, s + picked[1], picked[0].entity, self.name))
                elif self.default_mask and self._unknown_key_personal(text[ks:c], value):
                    out.append(Match(s, s + len(value), "identifier", self.name + "_default"))
            return out
        return self._pair_without_colon(text)

    def _pair_without_colon(self, text: str) -> list[Match]:
        """`key value` at the start of a line, space-separated or glued (收货人张伟, Tel 020 ...)."""
        t = text.strip()
        if not t:
            return []
        off = text.index(t)
        one = self.single_char_keys.get(t[:1])
        if one and len(t) > 2 and t[1].isspace():  # waybill labels: `收 张三`, `寄 李四`
            value = t[1:].strip()
            rule = next((r for r in self.rules if r.entity == one), None)
            if rule is not None and self.value_fits(rule, value.split()[0]):
                s = off + t.index(value)
                return [Match(s, s + len(value.split()[0]), rule.entity, self.name)]
        if _is_cjk(t[:1]):
            for n in range(2, min(len(t) - 1, self.max_zh) + 1):
                key, value = t[:n], t[n:]
                rule = self.pick(key, value, strict=True)
                if rule is not None:
                    s = off + n + (len(value) - len(value.lstrip()))
                    return [Match(s, off + len(t.rstrip(TRIM)), rule.entity, self.name)]
        else:  # words, and a switch of script counts as a space (`Recipient孙伟`)
            words = list(re.finditer(rf"[^\s{CJK}]+|[{CJK}]+", t))
            for n in range(1, min(len(words) - 1, self.max_en) + 1):
                key, value = t[: words[n - 1].end()], t[words[n].start() :]
                rule = self.pick(key, value, strict=True)
                if rule is not None:
                    return [Match(off + words[n].start(), off + len(t.rstrip(TRIM)), rule.entity, self.name)]
        return []

    def _bare_label(self, text: str) -> bool:
        """The line is only key words (`店铺`, `Store`, `Phone`), no other word (`Brightway Shop`)."""
        t = text.strip(TRIM + COLONS).lower()
        if any(_is_cjk(c) for c in t):
            return len(t) <= 4
        words = t.split()
        return bool(words) and all(any(self._en_word_res[w].search(x) for r in self.rules for w in r.en_words) for x in words)

    def key_only(self, text: str) -> list[KeyRule]:
        t = text.strip()
        if not t or any(c in COLONS for c in t[:-1]):
            return []
        return self.key_entities(t)

    # -- across lines ------------------------------------------------------------------------
    def find_lines(self, lines: list[TextLine]) -> list[Match]:
        """Values on their own line: the neighbour (right, same row; else below) of a key-only line."""
        out = []
        keyish = [self.key_only(ln.text) for ln in lines]
        for i, rules in enumerate(keyish):
            if not rules:
                continue
            if not lines[i].text.rstrip().endswith(tuple(COLONS)) and not self._bare_label(lines[i].text):
                # `Brightway Shop` is a name that happens to end in a key word: without a colon, a
                # line that is not just a label announces only tight value shapes
                rules = [r for r in rules if r.value in self.STRICT or r.value == "address"]
            for j in _value_neighbours(lines, i, keyish):
                rule = next((r for r in rules if self.value_fits(r, lines[j].text)), None)
                if rule is None:
                    # the neighbour may itself be `value  other-key: ...`: take the part before a colon
                    continue
                out.append(Match(0, len(lines[j].text), rule.entity, self.name + "_neighbour", line=j, whole_line=True))
        return out


def _value_neighbours(lines: list[TextLine], i: int, keyish: list) -> list[int]:
    """The line right of line i on its row, else the nearest line below it overlapping it
    horizontally; for a column header (other keys on the same row) every line below it in its
    column down to the first gap."""
    x0, y0, x1, y1 = _bbox(lines[i].polygon)
    h = max(y1 - y0, 1.0)
    cy = (y0 + y1) / 2
    boxes = [_bbox(ln.polygon) for ln in lines]
    right, right_d = None, None
    for j, (a0, b0, _a1, b1) in enumerate(boxes):
        if j == i or abs((b0 + b1) / 2 - cy) > 0.6 * h:
            continue
        if a0 >= x1 - 0.5 * h and (d := a0 - x1) <= 14 * h and (right_d is None or d < right_d):
            right, right_d = j, d
    if right is not None and not keyish[right]:
        return [right]
    # another key on the same row: a table header, whose column runs down to the first gap
    header_row = any(j != i and keyish[j] and abs((b0 + b1) / 2 - cy) <= 0.6 * h for j, (_, b0, _, b1) in enumerate(boxes))
    below = sorted(
        (b0, j)
        for j, (a0, b0, a1, b1) in enumerate(boxes)
        if j != i and b0 >= y1 - 0.3 * h and min(a1, x1) - max(a0, x0) > 0.3 * min(a1 - a0, x1 - x0, 3 * h)
    )
    out = []
    last = y1
    for b0, j in below:
        if b0 - last > 1.8 * h or keyish[j]:
            break
        out.append(j)
        last = boxes[j][3]
        if not header_row:
            break
    return out


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


# -- the registry -------------------------------------------------------------------------------
def registry_paths() -> list[str]:
    return [str(resources.files("pipelines.privacy").joinpath("recognizers.yaml"))]


@functools.lru_cache(maxsize=1)
def _builtin_spec_text() -> str:
    return resources.files("pipelines.privacy").joinpath("recognizers.yaml").read_text(encoding="utf-8")


def _yaml(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_registry(files: Iterable[str] = ()) -> dict:
    """The built-in `recognizers.yaml` with each extra file merged over it: recognisers by name
    (same name replaces, `enabled: false` removes), `key_value` and `zh_names` lists extended."""
    spec = _yaml(_builtin_spec_text())
    for path in files or ():
        from pipelines.core import io

        extra = _yaml(io.read_bytes(path).decode("utf-8")) or {}
        bad = set(extra) - {"recognizers", "key_value", "zh_names"}
        if bad:
            raise ValueError(f"{path}: unknown section(s) {sorted(bad)} (recognizers, key_value, zh_names)")
        by_name = {r["name"]: r for r in spec["recognizers"]}
        for r in extra.get("recognizers") or []:
            if "name" not in r:
                raise ValueError(f"{path}: a recogniser without a name: {r}")
            by_name[r["name"]] = {**by_name.get(r["name"], {}), **r}
        spec["recognizers"] = list(by_name.values())
        kv = extra.get("key_value") or {}
        for rule in kv.get("entities") or []:  # more key words for an entity (or a new entity)
            mine = next((e for e in spec["key_value"]["entities"] if e["entity"] == rule["entity"]), None)
            if mine is None:
                spec["key_value"]["entities"].append(rule)
            else:
                for k, v in rule.items():
                    if isinstance(v, list):
                        mine[k] = list(mine.get(k) or []) + v
                    elif k != "entity":
                        mine[k] = v
        for k, v in (kv.get("exclude") or {}).items():
            spec["key_value"]["exclude"][k] = list(spec["key_value"]["exclude"].get(k) or []) + list(v)
        spec["key_value"]["values"].update(kv.get("values") or {})
        for k, v in (extra.get("zh_names") or {}).items():
            cur = spec["zh_names"].get(k)
            spec["zh_names"][k] = cur + v if isinstance(cur, (list, str)) and isinstance(v, type(cur)) else v
    return spec


def registry_digest(files: Iterable[str] = ()) -> str:
    """sha256 of the merged registry (recorded in each audit: the recognisers are data)."""
    import hashlib

    return hashlib.sha256(json.dumps(load_registry(files), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


MEDIA = ("image", "text")


def build_recognizers(spec: dict, medium: str | None = None) -> list[Recognizer]:
    """The registry's recognisers; with `medium` (image | text) only those whose `media` list
    (default: both) names it."""
    zh = spec.get("zh_names") or {}
    person = ZhPersonRecognizer(
        "zh_person_name",
        "person_name",
        str(zh.get("single", "")),
        tuple(zh.get("compound") or ()),
        tuple(zh.get("before") or ()),
        tuple(zh.get("after") or ()),
        tuple(zh.get("stop_values") or ()),
    )
    out: list[Recognizer] = []
    for r in spec.get("recognizers") or []:
        if r.get("enabled", True) is False:
            continue
        if medium is not None and medium not in (r.get("media") or MEDIA):
            continue
        kind = r.get("kind", "pattern")
        name, entity = r["name"], r.get("entity", "pii")
        if kind == "pattern":
            pats = tuple(r.get("patterns") or ([r["regex"]] if "regex" in r else []))
            if not pats:
                raise ValueError(f"recogniser {name}: a pattern needs `regex` or `patterns`")
            out.append(
                PatternRecognizer(
                    name,
                    entity,
                    pats,
                    tuple(r.get("checks") or ()),
                    tuple(r.get("context") or ()),
                    int(r.get("context_window", 12)),
                    r.get("requires"),
                )
            )
        elif kind == "cue":
            out.append(CueRecognizer(name, entity, tuple(r["cues"]), r["value"], tuple(str(d) for d in r.get("deny") or ())))
        elif kind == "zh_person":
            person.name, person.entity = name, entity
            out.append(person)
        elif kind == "vocabulary":
            out.append(VocabRecognizer(name, entity, list(r.get("terms") or []) + [t for p in r.get("files") or [] for t in load_vocab(p)]))
        elif kind == "name_model":
            from pipelines.privacy import names

            out.append(names.build(name, entity, r, person))
        else:
            raise ValueError(f"recogniser {name}: unknown kind {kind!r} (pattern, cue, zh_person, name_model, vocabulary)")
    kv = spec.get("key_value")
    if kv and kv.get("enabled", True) is not False and (medium is None or medium in (kv.get("media") or MEDIA)):
        deny = [
            d
            for r in spec.get("recognizers") or []
            if r.get("kind") == "cue" and r.get("entity") == "person_name"
            for d in r.get("deny") or []
        ]
        # the flipped default applies where the spec says (images: a form's unknown label)
        kv = {**kv, "default_mask": medium is None or medium in (kv.get("default_mask_media") or ())}
        out.append(KeyValueRecognizer(kv.get("name", "key_value"), kv, person, [str(d) for d in deny]))
    names = [r.name for r in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"duplicate recogniser name(s) {dup}")
    return out


def builtin_names(medium: str | None = None) -> list[str]:
    return [r.name for r in build_recognizers(load_registry(), medium)]


@dataclass
class RecognizerSet:
    """The recognisers a policy enables, plus any vocabularies; `recognise(lines)` -> matches per image."""

    recognizers: list[Recognizer]

    @classmethod
    def build(
        cls,
        enabled: Iterable[str] | None = None,
        vocabularies: dict[str, dict] | None = None,
        files: Iterable[str] = (),
        medium: str = "image",
    ) -> RecognizerSet:
        available = {r.name: r for r in build_recognizers(load_registry(files), medium)}
        names = list(enabled) if enabled is not None else list(available)
        unknown = [n for n in names if n not in available and n not in (vocabularies or {})]
        if unknown:
            raise ValueError(f"unknown recognizer(s) {unknown}; available: {sorted(available)}")
        chosen: list[Recognizer] = [available[n] for n in names if n in available]
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
        for r in self.recognizers:
            if isinstance(r, KeyValueRecognizer):
                out += r.find_lines(lines)
        out += self._names_beside_pii(lines, out)
        return sorted(set(out), key=lambda m: (m.line, m.start, m.end, m.recognizer))

    def _names_beside_pii(self, lines: list[TextLine], found: list[Match]) -> list[Match]:
        """A name-shaped token next to other PII in the same line (`张伟 13812345678 广东省...`)."""
        person = next((r for r in self.recognizers if isinstance(r, ZhPersonRecognizer)), None)
        if person is None:
            return []
        by_line: dict[int, list[Match]] = {}
        for m in found:
            by_line.setdefault(m.line, []).append(m)
        out = []
        for i, ms in by_line.items():
            text = lines[i].text
            for tok in re.finditer(r"[^\s,，;；、|/]+", text):
                s, e = tok.span()
                if any(m.start < e and s < m.end for m in ms):
                    continue
                near = any(abs(m.start - e) <= 2 or abs(s - m.end) <= 2 for m in ms if m.entity != "person_name")
                if near and person.is_name(tok.group()):
                    out.append(Match(s, e, "person_name", person.name + "_beside_pii", line=i))
        return out
