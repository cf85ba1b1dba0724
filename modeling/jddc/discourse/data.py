"""Discourse parsing examples: each annotated session as a sequence of EDUs with its gold links.

An EDU is one message (`turns` row, text or image; paper section 3.2). `jddc_discourse` gives
every EDU but the first its parent (an earlier EDU) and its Table 12 relation. A parser sees the
EDUs it can read: the multimodal one every EDU, the text-only one only the text EDUs (the paper's
footnote 4: "the image EDUs are ignored"), so its `edus` skip the image messages and its links to
or from them can never be predicted; scoring always uses the full gold parse.
"""

from __future__ import annotations

from dataclasses import dataclass

from modeling.jddc.data import Session, load_sessions, read_table
from schemas.jddc import DISCOURSE_RELATIONS

RELATIONS: tuple[str, ...] = DISCOURSE_RELATIONS  # the classifier's labels: Table 12's level-3 relations
RELATION_INDEX = {r: i for i, r in enumerate(RELATIONS)}


@dataclass
class Edu:
    turn_index: int
    user: bool
    text: str
    image_ids: list[str]

    @property
    def is_image(self) -> bool:
        return not self.text and bool(self.image_ids)


@dataclass
class DiscourseExample:
    dialog_id: str
    edus: list[Edu]  # what the parser reads, in order
    gold: list[tuple[int, int, str]]  # (turn_index, parent_turn_index, relation) for the whole session

    def gold_parents(self) -> list[tuple[int, int]]:
        """(parent position in `edus`, relation id) per EDU; (-1, -1) for the first EDU and for an
        EDU whose gold parent the parser cannot see (an image EDU in text-only mode)."""
        pos = {e.turn_index: k for k, e in enumerate(self.edus)}
        links = {c: (p, r) for c, p, r in self.gold}
        out = []
        for e in self.edus:
            p, r = links.get(e.turn_index, (None, None))
            out.append((pos[p], RELATION_INDEX[r]) if p in pos else (-1, -1))
        return out


def discourse_examples(data: str, split: str, multimodal: bool) -> list[DiscourseExample]:
    """The annotated sessions of `split` (those with `jddc_discourse` rows), sorted by dialog id."""
    links: dict[str, list[tuple[int, int, str]]] = {}
    for row in read_table(data, "jddc_discourse", ["dialog_id", "turn_index", "parent_turn_index", "relation"], split):
        links.setdefault(row["dialog_id"], []).append((row["turn_index"], row["parent_turn_index"], row["relation"]))
    if not links:
        return []
    out = []
    for session in load_sessions(data, split):
        if session.dialog_id in links:
            out.append(_example(session, sorted(links[session.dialog_id]), multimodal))
    return out


def _example(session: Session, gold: list[tuple[int, int, str]], multimodal: bool) -> DiscourseExample:
    edus = [Edu(t.index, t.user, t.text, list(t.image_ids)) for t in session.turns]
    if not multimodal:
        edus = [e for e in edus if e.text]
    return DiscourseExample(session.dialog_id, edus, gold)
