"""Person names by statistics, not by cues (recogniser kind `name_model`).

Real chat names people without any cue ("张伟的快递到了吗", "Tell Sarah Okafor it is ready"), so
a list of label words cannot find them. Both models use data that ships inside an installed
package (nothing downloads):

- Chinese: every position holding a surname from the registry's table (single or compound) is a
  candidate of surname + 2 or 1 given characters. It is a name when the mean *given-name character
  score* is at least `min_given_score` (log of how much more often a character follows a surname
  in jieba's `nr` dictionary words than it occurs in dictionary words at all: 伟 +2.1, 的 -0.7,
  款 -4.2), unless a frequent non-name dictionary word overlaps it (the surname ends the word
  before: 公司, 工程师; surname + first given character, or the given part, starts a word: 时候,
  那颜色). A candidate that jieba's dictionary lists as a frequent `nr` word is a public figure
  (周杰伦, 成龙) and is kept. The three derived tables are cached on disk (`zh_tables`).
- English: Latin-script first and last names of every Faker person provider (English, European,
  African, Indian locales, romanised Chinese and Japanese): a first name followed by capitalised
  words, a capitalised word followed by a known surname, a title and a capitalised word (Mrs
  Okoye), or a first name alone inside a sentence; words that are also common English words
  (Will, May, Rose) count only with a surname, and a capitalised word glued to CJK or followed by
  a number is a product name (华为Mate 60).

Public figures are product information (MMD, JDDC), not personal data: a name right next to a
public-figure cue (同款, 代言, celebrity, wore, endorsed ...) is kept.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import pickle
import re
import warnings
from collections import Counter
from dataclasses import dataclass

from pipelines.privacy.recognizers import FUNCTION_CHARS, Match, Recognizer, _is_cjk

PUBLIC_ZH = re.compile(r"同款|代言|主演|演唱|粉丝|签名|明星|联名|演员|歌手|出演|大片|电影|综艺|导演|冠军|球星|偶像|爱豆")
PUBLIC_EN = re.compile(
    r"(?i)(?<![a-z])(?:celebrit\w*|celeb|star(?:s|ring|red)?|singer|actor|actress|endorse\w*|signature|inspired|"
    r"wore|wears|worn|fans?|concert|album|movie|film|athlete|ambassador|famous|icon)(?![a-z])"
)
EN_AMBIGUOUS = frozenset(
    "Will May June April August Bill Grant Mark Rose Hope Faith Joy Page Sky Summer Autumn Dawn Amber Ruby Pearl Jade "
    "Crystal Star Max Pat Sue Rich Frank Guy Miles Chase Lane Young Long Brown White Black Green Gray Grey Penny Sunny "
    "Holly Ginger Iris Violet Lily Daisy Olive Angel Honey Sandy Misty Candy Cherry Apple Art Bob Don Ray Jack Gene "
    "Carol Ivy Jean Jewel Kit Lou Norm Pierce Price Reed Rod Rusty Sterling Victor Wade Ward Way Wes West Hunter Mason "
    "Taylor Jordan Harper Parker Cooper Carter Tucker Baker Porter Royal Rocky Dusty Stormy Brook Brooke River Forest "
    "Heather Georgia Virginia Florida Carolina Dakota Austin Houston Phoenix Paris Sydney London Chelsea India China "
    "Asia Africa America Easter Christmas Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February "
    "March September October November December Pro Max Plus Mini Air Ultra Lite Note Edge Neo Prime Nova".split()
)
EN_NOT_SURNAME = frozenset(
    "Street St Road Rd Avenue Ave Lane Drive Way Store Shop Mall Center Centre Plaza Park Pro Max Plus Mini Air Ultra "
    "Lite Edition Series Collection Size Color Colour Black White Red Blue Green Gray Grey Pink Gold Silver Monday "
    "Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August September "
    "October November December Express Delivery Service Support Team Customer Order Refund Return Please Thanks Thank "
    "Hello Hi Dear I You We They He She It The A An And Or But If When My Your Our Their His Her Can Could Would Should "
    "Will Shall May Might Must Do Does Did Is Are Was Were Have Has Had Let Get Got Send Ship Call Ask Tell Sorry Yes No "
    "Ok Okay Not What Where Why How Who Which This That These Those There Here Just Also Still".split()
)
EN_WORD = re.compile(r"(?:O'|D'|Mc|Mac)?[A-ZÀ-Þ][a-zà-ÿ]+(?:['\-][A-Za-zà-ÿ][a-zà-ÿ]+)*")
ZH_CUE_BEFORE = re.compile(r"(?:叫|是|给|找|让|问|和|跟|收件人|联系人|收货人|姓名)[:：]?$")
TITLE_CASE_WORK = re.compile(r"(?:^|[^A-Za-z])(?:The|A|An|Of|In|On)\s$")
YEAR_AFTER = re.compile(r"(?:\s[A-Z][A-Za-z']*)*\s?\((?:19|20)[0-9]{2}\)")
TITLE_BEFORE = re.compile(r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s$")
SENTENCE_END = re.compile(r"(?:^|[.!?。！？:：;；\n]\s*|[\"“(（]\s*)$")


@functools.lru_cache(maxsize=1)
def _jieba():
    """jieba's POS dictionary and word frequencies (loaded only to build `zh_tables`)."""
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(logging.WARNING)
    pseg.lcut("初始化")
    return jieba.dt, pseg.dt.word_tag_tab, jieba.dt.FREQ


@dataclass(frozen=True)
class ZhTables:
    """What the Chinese model reads from jieba's dictionary, reduced to three small tables."""

    scores: dict  # given-name character -> log ratio
    common: frozenset  # 2-3 character non-name words at least `common_freq` frequent
    famous: frozenset  # `nr` words at least `public_freq` frequent (public figures)


def _cache_path(key: str) -> str | None:
    base = os.environ.get("MMDIAL_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mmdial")
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        return None
    return os.path.join(base, f"{key}.pickle")


def _cached(key: str, build):
    """`build()` pickled on disk under `key` (derived tables, like jieba's own cache); rebuilt when
    the cache is missing, unreadable or unwritable."""
    path = _cache_path(key)
    if path and os.path.exists(path):
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt
            pass
    value = build()
    if path:
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass
    return value


@functools.lru_cache(maxsize=4)
def zh_tables(single: str, common_freq: int, public_freq: int) -> ZhTables:
    """Derived once from jieba's dictionary and cached on disk (like jieba's own cache), keyed by
    the dictionary file, the surname table and the thresholds: a worker then loads in ~0.1 s
    instead of parsing the 350k-word dictionary (~1 s)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")  # the dictionary's path without importing jieba (~0.1 s)
    if spec is None or not spec.origin:
        raise ImportError("jieba is not installed (pip install jieba): the Chinese name model needs its dictionary")
    st = os.stat(os.path.join(os.path.dirname(spec.origin), "dict.txt"))
    key = hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}:{single}:{common_freq}:{public_freq}:2".encode()).hexdigest()[:16]
    return _cached(f"zh_names-{key}", lambda: _build_zh_tables(single, common_freq, public_freq))


def _build_zh_tables(single: str, common_freq: int, public_freq: int) -> ZhTables:
    _, tags, freq = _jieba()
    surnames = set(single)
    name, bg = Counter(), Counter()
    common, famous = set(), set()
    for w, t in tags.items():
        bg.update(w)
        f = freq.get(w) or 0
        if t.startswith("nr"):
            if 2 <= len(w) <= 4 and f >= public_freq:
                famous.add(w)
            if t == "nr" and 2 <= len(w) <= 3 and w[0] in surnames and all(_is_cjk(c) for c in w):
                name.update(w[1:])
        elif 2 <= len(w) <= 3 and f >= common_freq and t not in ("nz", "ns", "nt"):
            common.add(w)  # proper nouns (建华 nz, 建国 ns) are given names too: not vetoes
    n, b = sum(name.values()) or 1, sum(bg.values()) or 1
    scores = {c: math.log((name[c] + 0.5) / n) - math.log((bg[c] + 0.5) / b) for c in set(name) | set(bg)}
    return ZhTables(scores, frozenset(common), frozenset(famous))


def given_char_scores(single: str) -> dict[str, float]:
    return zh_tables(single, 50, 20).scores


LATIN_NAME = re.compile(r"[A-ZÀ-Þ][a-zà-ÿ]+(?:['\-][A-Za-zà-ÿ][a-zà-ÿ]+)*")


@dataclass(frozen=True)
class EnNames:
    first_en: frozenset  # first names of the English-language locales (en, en_US, en_GB, en_IN, ...)
    first: frozenset  # first names of every locale
    last: frozenset  # surnames of every locale


@functools.lru_cache(maxsize=1)
def english_names() -> EnNames:
    try:
        from importlib.metadata import version

        faker_version = version("faker")
    except Exception:  # noqa: BLE001 - not installed: no English name model
        return EnNames(frozenset(), frozenset(), frozenset())
    key = hashlib.sha256(f"{faker_version}:{sorted(EN_AMBIGUOUS)}:{sorted(EN_NOT_SURNAME)}:3".encode()).hexdigest()[:16]
    return _cached(f"en_names-{key}", _build_english_names)


def _build_english_names() -> EnNames:
    """Names in Latin script from every Faker person provider (English, other European, African,
    Indian locales, and the romanised Chinese and Japanese tables), minus words that are common
    in English text (`EN_AMBIGUOUS`, `EN_NOT_SURNAME`)."""
    import importlib
    import pkgutil

    first: set[str] = set()
    first_en: set[str] = set()
    last: set[str] = set()
    try:
        import faker.providers.person as people
    except ImportError:
        return EnNames(frozenset(), frozenset(), frozenset())
    for mod in pkgutil.iter_modules(people.__path__):
        try:
            p = importlib.import_module(f"faker.providers.person.{mod.name}").Provider
        except ImportError:
            continue
        for attr in dir(p):
            if attr.startswith("_") or "name" not in attr or not ("first" in attr or "last" in attr) or "pair" in attr or "kana" in attr:
                continue
            values = getattr(p, attr, ())
            if callable(values) or isinstance(values, (str, property)) or not hasattr(values, "__iter__"):
                continue
            names = {str(x) for x in values if isinstance(x, str) and LATIN_NAME.fullmatch(str(x))}
            (first if "first" in attr else last).update(names)
            if "first" in attr and mod.name.startswith("en_"):  # not `en`: its 7,000 names include Rice, Sugar
                first_en.update(names)
    drop = EN_AMBIGUOUS | EN_NOT_SURNAME
    return EnNames(frozenset(first_en - EN_NOT_SURNAME), frozenset(first - EN_NOT_SURNAME), frozenset(last - drop))


class ZhNameModel(Recognizer):
    def __init__(self, name: str, entity: str, person, min_given_score: float = 0.0, public_freq: int = 20, common_freq: int = 50):
        self.name, self.entity = name, entity
        self.common_freq = int(common_freq)
        self.person = person  # the ZhPersonRecognizer: surname table and stop values
        self.min_given_score = float(min_given_score)
        self.public_freq = int(public_freq)
        self._scores: dict[str, float] | None = None
        self._tables: ZhTables | None = None
        self._starts = None

    def _given_ok(self, given: str) -> bool:
        if not given or not all(_is_cjk(c) for c in given):
            return False
        return sum(self._scores.get(c, -5.0) for c in given) / len(given) >= self.min_given_score

    def _public(self, text: str, s: int, e: int) -> bool:
        return bool(PUBLIC_ZH.search(text, max(0, s - 4), min(len(text), e + 6)))

    def _common(self, w: str) -> bool:
        """A frequent dictionary word that is not a name (时候, 夏天, 公司, 一下)."""
        return w in self._tables.common

    def _candidate(self, text: str, i: int, sl: int) -> int:
        """End of a name starting at i with a surname of sl characters, 0 if none."""
        if sl == 1 and i > 0 and _is_cjk(text[i - 1]) and (self._common(text[i - 1 : i + 1]) or self._common(text[max(0, i - 2) : i + 1])):
            return 0  # the surname character belongs to the word before (公司, 不同, 工程师)
        if self._common(text[i : i + sl + 1]) or self._common(text[i + sl : i + sl + 2]):
            return 0  # surname + first given character is a word (时候, 高领), or the given part starts one (那颜色)
        for g in (2, 1):
            e = i + sl + g
            given = text[i + sl : e]
            if len(given) != g or any(c in FUNCTION_CHARS or not _is_cjk(c) for c in given):
                continue
            if g == 2 and self._common(text[e - 1 : e + 1]):
                continue  # 沈磊会去: 会去 is a word
            if self._given_ok(given):
                return e
        return 0

    def vetoes(self, value: str) -> bool:
        """A name-shaped value that is a common word, or whose given part is one (方式, 来安装):
        how the text stage checks Chinese names found by cues and key shapes."""
        v = value.strip()
        if not v or not all(_is_cjk(c) for c in v):
            return False
        if self._tables is None:
            self._tables = zh_tables(self.person.single, self.common_freq, self.public_freq)
            self._scores = self._tables.scores
        sl = self.person.surname_len(v, 0) or 1
        return self._common(v) or (len(v) - sl >= 2 and self._common(v[sl : sl + 2]))

    def find(self, text: str) -> list[Match]:
        single, compound = self.person._single, self.person._compound
        if not any(c in single for c in text) and not any(c in text for c in compound):
            return []  # cheap gate: no surname character, no name
        if self._tables is None:
            self._tables = zh_tables(self.person.single, self.common_freq, self.public_freq)
            self._scores = self._tables.scores
        out = []
        i = 0
        starts = self._starts
        if starts is None:
            chars = "".join(sorted(single | {c[0] for c in compound}))
            starts = self._starts = re.compile(f"[{re.escape(chars)}]")
        while i < len(text):
            m = starts.search(text, i)  # jump to the next surname character
            if m is None:
                break
            i = m.start()
            sl = self.person.surname_len(text, i)
            e = self._candidate(text, i, sl) if sl else 0
            if not e and sl == 2:  # 欧阳: also try the single surname 欧
                e = self._candidate(text, i, 1) if text[i] in single else 0
            if not e:
                i += 1
                continue
            value = text[i:e]
            famous = value in self._tables.famous
            stop = value in self.person._stop or any(value.startswith(x) for x in self.person._stop if len(x) >= 2)
            if not (famous or stop or self._public(text, i, e)):
                out.append(Match(i, e, self.entity, self.name))
            i = e
        return out


class EnNameModel(Recognizer):
    def __init__(self, name: str, entity: str):
        self.name, self.entity = name, entity

    def find(self, text: str) -> list[Match]:
        if not re.search(r"[A-ZÀ-Þ][a-zà-ÿ]", text):
            return []
        names = english_names()
        words = list(EN_WORD.finditer(text))
        out = []
        k = 0
        while k < len(words):
            run = [words[k]]  # capitalised words separated by single spaces
            while k + len(run) < len(words) and len(run) < 3 and text[run[-1].end() : words[k + len(run)].start()] == " ":
                run.append(words[k + len(run)])
            span = self._name_in(text, run, names)
            if span is None:
                k += 1
                continue
            s, e, used = span
            if not PUBLIC_EN.search(text, max(0, s - 40), min(len(text), e + 40)):
                out.append(Match(s, e, self.entity, self.name))
            k += used
        return out

    @staticmethod
    def _name_in(text: str, run: list, names: EnNames) -> tuple[int, int, int] | None:
        """(start, end, words used) of a name starting the run: an English-locale first name and
        the capitalised words after it; any locale's first name, or an unknown capitalised word,
        and a known surname; a title and a capitalised word; an English-locale first name alone
        inside a sentence. Other locales' first names alone are too often English words (Rice)."""
        first, last = names.first_en, names.last
        head = run[0].group()
        if head in EN_NOT_SURNAME or TITLE_CASE_WORK.search(text, 0, run[0].start()) or YEAR_AFTER.match(text, run[-1].end()):
            return None  # The Golden Storm, Blue Velvet (1986): titles of works, not people
        rest = []
        for r in run[1:]:
            if r.group() in EN_NOT_SURNAME:
                break
            rest.append(r)
        if rest and head not in first and rest[0].group() in first:
            return None  # `Consignee John Smith`: the name starts at the first name
        if rest and (head in first or rest[0].group() in last) and head not in EN_AMBIGUOUS | {"Mr", "Mrs", "Ms", "Dr"}:
            return run[0].start(), rest[-1].end(), 1 + len(rest)
        if rest and head in names.first and rest[0].group() in last:
            return run[0].start(), rest[-1].end(), 1 + len(rest)
        if rest and head in first:  # Will Smith, Grace Murphy: an ambiguous first name needs a surname
            return run[0].start(), rest[-1].end(), 1 + len(rest)
        if TITLE_BEFORE.search(text[: run[0].start()]):
            return run[0].start(), (rest[-1] if rest else run[0]).end(), 1 + len(rest)
        s, e = run[0].span()
        glued = s > 0 and (_is_cjk(text[s - 1]) or text[s - 1].isdigit())  # 华为Mate: part of a product name
        glued = glued and not ZH_CUE_BEFORE.search(text[:s])  # 我叫Anna, 寄给Anna: a name after all
        numbered = re.match(r"\s?[0-9]", text[e : e + 2]) is not None  # Mate 60, Note 12: a model
        if head in first and head not in EN_AMBIGUOUS and not (glued or numbered) and not SENTENCE_END.search(text[:s]):
            return s, e, 1
        return None


def build(name: str, entity: str, spec: dict, person) -> Recognizer:
    """A `name_model` recogniser from its registry entry (`lang: zh|en`)."""
    lang = spec.get("lang", "zh")
    if lang == "zh":
        return ZhNameModel(name, entity, person, spec.get("min_given_score", 0.0), spec.get("public_freq", 20), spec.get("common_freq", 50))
    if lang == "en":
        return EnNameModel(name, entity)
    raise ValueError(f"recogniser {name}: name_model lang must be zh or en, not {lang!r}")
