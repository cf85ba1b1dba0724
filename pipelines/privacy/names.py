"""Person names by statistics, not by cues (recogniser kind `name_model`).

Real chat names people without any cue ("张伟的快递到了吗", "Tell Sarah Okafor it is ready"), so
a list of label words cannot find them. Both models use data that ships inside an installed
package (nothing downloads):

- Chinese: jieba's segmenter (its HMM cuts unseen names out as new words) and its dictionary's
  POS tags (`nr`), combined with the registry's surname table (single and compound) and a
  *given-name character score* learnt at set-up from jieba's own dictionary: how much more often a
  character follows a surname in `nr` words than it occurs in words at all (log ratio). A token
  is a name when it is surname + 1-2 given characters and either jieba's dictionary tags it `nr`
  with a low corpus frequency (frequent `nr` entries are public figures: 周杰伦, 成龙) or it is a
  new word whose given characters score above `min_given_score` (卫衣, 丰巢: no).
- English: first names from the Faker package's person providers (en, en_US, en_GB, en_CA,
  en_AU, en_IE, en_NZ, en_IN, frequency-weighted census tables) followed by a capitalised word,
  or a first name alone in the middle of a sentence; words that are also common English words
  (Will, May, Rose) count only with a surname after them.

Public figures are product information (MMD, JDDC), not personal data: a name right next to a
public-figure cue (同款, 代言, celebrity, signature, wore ...) is kept.
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
    r"(?i)(?<![a-z])(?:celebrit\w*|celeb|star(?:s|ring)?|singer|actor|actress|endorse\w*|signature|edition|collection|"
    r"inspired|wore|wears|worn|fans?|concert|album|movie|film|tour|athlete|player|designer|brand ambassador|ambassador|"
    r"famous|icon|president|ceo|founder|model)(?![a-z])"
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
    "Hello Hi Dear I You We They He She It The A An And Or But If When My Your Our Their His Her".split()
)
EN_WORD = re.compile(r"[A-Z][a-z]+(?:['\-][A-Z]?[a-z]+)?")
SENTENCE_END = re.compile(r"(?:^|[.!?。！？:：;；\n]\s*|[\"“(（]\s*)$")


@functools.lru_cache(maxsize=1)
def _jieba():
    """jieba's tokenizer, its POS dictionary and word frequencies (loaded once per process)."""
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
    return os.path.join(base, f"zh_names-{key}.pickle")


@functools.lru_cache(maxsize=4)
def zh_tables(single: str, common_freq: int, public_freq: int) -> ZhTables:
    """Derived once from jieba's dictionary and cached on disk (like jieba's own cache), keyed by
    the dictionary file, the surname table and the thresholds: a worker then loads in ~0.1 s
    instead of parsing the 350k-word dictionary (~1 s)."""
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    import jieba

    dict_path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    st = os.stat(dict_path)
    key = hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}:{single}:{common_freq}:{public_freq}:1".encode()).hexdigest()[:16]
    path = _cache_path(key)
    if path and os.path.exists(path):
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt
            pass
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
        elif 2 <= len(w) <= 3 and f >= common_freq:
            common.add(w)
    n, b = sum(name.values()) or 1, sum(bg.values()) or 1
    scores = {c: math.log((name[c] + 0.5) / n) - math.log((bg[c] + 0.5) / b) for c in set(name) | set(bg)}
    tables = ZhTables(scores, frozenset(common), frozenset(famous))
    if path:
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                pickle.dump(tables, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass
    return tables


def given_char_scores(single: str) -> dict[str, float]:
    return zh_tables(single, 50, 20).scores


@functools.lru_cache(maxsize=1)
def english_names() -> tuple[frozenset, frozenset]:
    """(first names, surnames) from Faker's English person providers."""
    import importlib

    first: set[str] = set()
    last: set[str] = set()
    for loc in ("en", "en_US", "en_GB", "en_CA", "en_AU", "en_IE", "en_NZ", "en_IN", "en_PH"):
        try:
            p = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ImportError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first.update(str(x) for x in getattr(p, attr, ()) or ())
        last.update(str(x) for x in getattr(p, "last_names", ()) or ())
    return frozenset(first), frozenset(last)


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
        if sl == 1 and i > 0 and _is_cjk(text[i - 1]) and self._common(text[i - 1 : i + 1]):
            return 0  # the surname character belongs to the word before (公司, 不同)
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
        if not re.search(r"[A-Z][a-z]", text):
            return []
        first, last = english_names()
        words = list(EN_WORD.finditer(text))
        out = []
        k = 0
        while k < len(words):
            w = words[k]
            run = [w]
            while k + len(run) < len(words) and len(run) < 3:
                nxt = words[k + len(run)]
                if text[run[-1].end() : nxt.start()] not in (" ", " "):
                    break
                run.append(nxt)
            name = w.group()
            if name in first:
                rest = []
                for r in run[1:]:
                    if r.group() in EN_NOT_SURNAME:
                        break
                    rest.append(r)
                if rest:
                    s, e = w.start(), rest[-1].end()
                elif name not in EN_AMBIGUOUS and not SENTENCE_END.search(text[: w.start()]):
                    s, e = w.start(), w.end()
                else:
                    k += 1
                    continue
                if not PUBLIC_EN.search(text, max(0, s - 40), min(len(text), e + 40)):
                    out.append(Match(s, e, self.entity, self.name))
                k += max(1, len([r for r in run if r.end() <= e]))
                continue
            if name in last and re.search(r"(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s$", text[: w.start()]):
                out.append(Match(w.start(), w.end(), self.entity, self.name))
            k += 1
        return out


def build(name: str, entity: str, spec: dict, person) -> Recognizer:
    """A `name_model` recogniser from its registry entry (`lang: zh|en`)."""
    lang = spec.get("lang", "zh")
    if lang == "zh":
        return ZhNameModel(name, entity, person, spec.get("min_given_score", 0.0), spec.get("public_freq", 20), spec.get("common_freq", 50))
    if lang == "en":
        return EnNameModel(name, entity)
    raise ValueError(f"recogniser {name}: name_model lang must be zh or en, not {lang!r}")
