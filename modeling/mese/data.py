"""A ReDial or INSPIRED build as MESE reads it (`modeling.mese.sources` brings both to one form):
the item database (metadata fields per movie), dialogs as merged turns (`[PH]`-templated text and
the items each turn mentions) and one sample per system turn (every one trains the language loss;
those that mention items also train recommendation).

Item text is the metadata values joined by `[SEP]` in MESE's order (title, year, genre, actors,
director, plot); `content=False` drops genre and plot (the paper's "MESE w/o content", Table 5).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from modeling.data.tables import DataError, require_files
from schemas.core import pairs_to_dict

FIELDS = ("title", "year", "genre", "actors", "director", "plot")
CONTENT_FIELDS = ("genre", "plot")
SEP = "[SEP]"


@dataclass
class Items:
    ids: list[str]
    titles: list[str]
    fields: list[dict[str, str]]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.index = {pid: i for i, pid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, i: int, content: bool = True) -> str:
        keep = FIELDS if content else tuple(f for f in FIELDS if f not in CONTENT_FIELDS)
        vals = [self.fields[i][f] for f in keep if self.fields[i].get(f)]
        return f" {SEP} ".join(vals) if vals else self.titles[i]

    def genres(self, i: int) -> list[str]:
        g = self.fields[i].get("genre") or ""
        return [x.strip() for x in g.split(",") if x.strip()]


@dataclass
class Turn:
    speaker: str  # user | system
    text: str  # resolved (titles)
    templated: str  # [PH] in place of titles
    items: list[int]  # indices into Items, in order of first mention


@dataclass
class Sample:
    dialog: int
    turn: int

    def key(self) -> tuple[int, int]:
        return self.dialog, self.turn


@dataclass
class Split:
    dialog_ids: list[str]
    dialogs: list[list[Turn]]
    samples: list[Sample]  # every system turn with text

    def rec_samples(self) -> list[Sample]:
        return [s for s in self.samples if self.dialogs[s.dialog][s.turn].items]


def load_items(root: str) -> Items:
    from pipelines.core.parquet import read_table

    require_files(root, "products")
    rows = read_table(root, "products").select(["product_id", "name", "attributes"]).to_pylist()
    ids, titles, fields = [], [], []
    for r in sorted(rows, key=lambda r: r["product_id"]):
        attrs = pairs_to_dict(r["attributes"]) or {}
        ids.append(r["product_id"])
        titles.append(r["name"] or attrs.get("title") or r["product_id"])
        fields.append({f: str(attrs[f]) for f in FIELDS if attrs.get(f)})
    if not ids:
        raise DataError(f"{root}: the products table is empty")
    return Items(ids, titles, fields)


def load_split(root: str, split: str, items: Items) -> Split:
    from modeling.mese.sources import turn_rows

    rows = turn_rows(root, split)
    by_dialog: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_dialog[r["dialog_id"]].append(r)
    dialog_ids = sorted(by_dialog)
    dialogs, samples = [], []
    for d, did in enumerate(dialog_ids):
        turns = []
        for r in sorted(by_dialog[did], key=lambda r: r["turn_index"]):
            idx = [items.index[i] for i in (r["item_ids"] or []) if i in items.index]
            turns.append(Turn(r["speaker"], r["text"], r["text_templated"] or r["text"], idx))
            if r["speaker"] == "system" and r["text"].strip():
                samples.append(Sample(d, len(turns) - 1))
        dialogs.append(turns)
    return Split(dialog_ids, dialogs, samples)


def cooccurrence(split: Split) -> dict[int, set[int]]:
    """Appendix A's rule-based source: items mentioned in the same (training) dialog."""
    out: dict[int, set[int]] = defaultdict(set)
    for turns in split.dialogs:
        mentioned = {i for t in turns for i in t.items}
        for i in mentioned:
            out[i] |= mentioned - {i}
    return dict(out)


def popularity(split: Split, n_items: int) -> list[float]:
    """How often each item is recommended (mentioned in a system turn) in the split."""
    c = Counter(i for s in split.rec_samples() for i in split.dialogs[s.dialog][s.turn].items)
    return [float(c.get(i, 0)) for i in range(n_items)]


def corpus_texts(split: Split, items: Items) -> list[str]:
    """What a from-scratch tokenizer is trained on: templated turns and every item's full text."""
    return [t.templated for turns in split.dialogs for t in turns] + [items.text(i) for i in range(len(items))]
