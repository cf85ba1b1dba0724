"""The corpora MESE reads, each brought to one form: turns whose `text_templated` holds MESE's `[PH]`
where a movie title was, and whose `item_ids` name the movies the turn mentions.

A build's manifest says which corpus it is (`dataset`; a plain copy without a manifest is read
from its `products.dataset` column):

- `redial` (`mmdial build redial`): already in MESE's form (merged turns, `[PH]` per mention).
- `inspired` (`mmdial build inspired`): one turn per utterance row with INSPIRED's own
  placeholders (`[MOVIE_TITLE_0]`, `[MOVIE_GENRE_1]`, `[MOVIE_P_ACTOR_0]`, `[MOVIE_PLOT]`, ...).
  Consecutive rows of one speaker are merged into a turn (texts joined by a space, movies in order
  of first mention), as ReDial's turns are; every title placeholder becomes `[PH]`, and every other
  placeholder the words it stands for, so that only items are templated, as in ReDial. Those words
  are read off the resolved text (the template's literal parts aligned against it); where the
  alignment fails, from the dialogue's `genre_dict` / `actor_dict` / `director_dict` /
  `others_dict` by the placeholder's index; else the placeholder is dropped.
"""

from __future__ import annotations

import json
import re

from modeling.data.tables import DataError

PH = "[PH]"
DATASETS = ("redial", "inspired")
_PLACEHOLDER = re.compile(r"\[(MOVIE_[A-Z_]*?)(?:_(\d+))?\]")
_DICTS = {"MOVIE_GENRE": "genre_dict", "MOVIE_P_ACTOR": "actor_dict", "MOVIE_P_DIRECTOR": "director_dict"}


def dataset_of(root: str) -> str:
    """The build's corpus name (`redial`, `inspired`), refused in one line when MESE cannot read it."""
    from pipelines.core.manifest import NotABuild, read_manifest

    try:
        name = read_manifest(root).get("dataset")
    except NotABuild:
        from pipelines.core.parquet import read_table

        names = set(read_table(root, "products").column("dataset").to_pylist())
        name = names.pop() if len(names) == 1 else None
    if name not in DATASETS:
        raise DataError(f"{root}: a {name or 'unknown'} build; MESE reads {' or '.join(DATASETS)} builds")
    return name


def _is_title(kind: str) -> bool:
    return kind == "MOVIE_TITLE"


def _aligned(templated: str, text: str) -> list[str] | None:
    """The surface of each placeholder in `templated`, read off `text`; None when they do not align."""
    pattern, last = [], 0
    for m in _PLACEHOLDER.finditer(templated):
        pattern.append(re.escape(templated[last : m.start()]) + r"(.+?)")
        last = m.end()
    pattern.append(re.escape(templated[last:]))
    found = re.fullmatch("".join(pattern), text, flags=re.S)
    return list(found.groups()) if found else None


def _from_dicts(kind: str, index: str | None, dicts: dict) -> str:
    table = dicts.get(_DICTS.get(kind, "others_dict")) or {}
    if index is not None:
        for name, i in table.items():
            if str(i) == index:
                return str(name)
    return ""


def to_mese_template(templated: str, text: str, dicts: dict | None = None) -> str:
    """INSPIRED's placeholders -> MESE's: titles `[PH]`, the others the words they stand for."""
    if not _PLACEHOLDER.search(templated):
        return templated
    surfaces = _aligned(templated, text)
    out, last = [], 0
    for n, m in enumerate(_PLACEHOLDER.finditer(templated)):
        out.append(templated[last : m.start()])
        kind, index = m.group(1), m.group(2)
        if _is_title(kind):
            out.append(PH)
        else:
            out.append(surfaces[n] if surfaces is not None else _from_dicts(kind, index, dicts or {}))
        last = m.end()
    out.append(templated[last:])
    return re.sub(r"\s+", " ", "".join(out)).strip()


def inspired_rows(rows: list[dict], dialog_meta: dict[str, dict]) -> list[dict]:
    """INSPIRED utterance rows (any order) -> merged turn rows in MESE's form, per dialogue in
    `turn_index` order, re-numbered from 0."""
    by_dialog: dict[str, list[dict]] = {}
    for r in rows:
        by_dialog.setdefault(r["dialog_id"], []).append(r)
    out = []
    for did, drows in by_dialog.items():
        dicts = dialog_meta.get(did, {})
        merged: list[dict] = []
        for r in sorted(drows, key=lambda r: r["turn_index"]):
            text = r["text"] or ""
            templ = to_mese_template(r["text_templated"] or text, text, dicts)
            items = list(r["item_ids"] or [])
            if merged and merged[-1]["speaker"] == r["speaker"]:
                last = merged[-1]
                last["text"] = f"{last['text']} {text}".strip()
                last["text_templated"] = f"{last['text_templated']} {templ}".strip()
                last["item_ids"] = list(dict.fromkeys(last["item_ids"] + items))
            else:
                merged.append({"dialog_id": did, "speaker": r["speaker"], "text": text, "text_templated": templ, "item_ids": items})
        for i, t in enumerate(merged):
            t["turn_index"] = i
        out += merged
    return out


def dialog_meta(root: str, split: str) -> dict[str, dict]:
    """dialog_id -> its parsed `meta` (INSPIRED keeps the placeholder dictionaries there)."""
    from pipelines.core.parquet import read_table

    rows = read_table(root, "dialogs", split).select(["dialog_id", "meta"]).to_pylist()
    return {r["dialog_id"]: (json.loads(r["meta"]) if r["meta"] else {}) for r in rows}


def turn_rows(root: str, split: str) -> list[dict]:
    """The split's turns in MESE's form, whichever corpus the build holds."""
    from modeling.data.tables import require_files
    from pipelines.core.parquet import read_table

    require_files(root, "turns", split)
    cols = ["dialog_id", "turn_index", "speaker", "text", "text_templated", "item_ids"]
    rows = read_table(root, "turns", split).select(cols).to_pylist()
    if dataset_of(root) == "inspired":
        return inspired_rows(rows, dialog_meta(root, split))
    return rows
