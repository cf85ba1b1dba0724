"""mmdial's JDDC 2.1 Parquet as sessions, and the examples each task trains on.

A build (`mmdial build jddc`) writes `turns` (one row per message; an image message has text ''
and its `image_ids`), `images`, `jddc_image_categories`, `jddc_kb_triples`,
`jddc_query_rewrites`, `jddc_discourse` and `jddc_summaries`, split train/valid/test by session.
`load_sessions` turns `turns` into `Session` objects (turns in order); the other tables are read
as plain per-key dicts. The example builders cut a session into what a task sees:

- `response_examples`: every agent turn that follows a user message, with the history before it
  split into `context` (earlier turns) and `query` (the trailing run of user messages), and the
  images of both (the paper's "context + current query", section 5.1).
- `rewrite_examples`: every annotated user query, its history as context, its rewritable flag and
  rewrite (section 5.2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pyarrow.parquet as pq

from modeling.data import tables

SPLITS = ("train", "valid", "test")
IMAGE_MARK = "[图片]"  # how an image message reads in text (text-only models see that one was sent)


@dataclass
class Turn:
    index: int
    speaker: str  # user | system
    text: str
    image_ids: list[str] = field(default_factory=list)

    @property
    def user(self) -> bool:
        return self.speaker == "user"

    def as_text(self) -> str:
        return self.text if self.text else (IMAGE_MARK if self.image_ids else "")


@dataclass
class Session:
    dialog_id: str
    split: str
    turns: list[Turn]


@dataclass
class Example:
    """One input/output pair of a JDDC task. `context` holds the earlier turns (oldest first),
    `query` the current user message(s); `images` the image ids of both, oldest first."""

    dialog_id: str
    turn_index: int
    context: list[Turn]
    query: list[Turn]
    target: str
    images: list[str]
    label: bool | None = None

    @property
    def query_text(self) -> str:
        return "".join(t.as_text() for t in self.query)


def check_build(data: str) -> None:
    if not data or not os.path.isdir(data):
        raise tables.DataError(f"data={data!r}: give a JDDC build output folder (mmdial build jddc ... --out DIR)")
    tables.require_files(data, "turns")


def read_table(data: str, table: str, columns: list[str], split: str | None = None) -> list[dict]:
    """Rows of a (small) table as dicts; [] when the build lacks it."""
    files = tables.table_files(data, table, split)
    rows: list[dict] = []
    for path in files:
        rows.extend(pq.read_table(path, columns=columns).to_pylist())
    return rows


def load_sessions(data: str, split: str) -> list[Session]:
    """The sessions of one split, turns in order, sorted by dialog id."""
    check_build(data)
    files = tables.table_files(data, "turns", split)
    if not files:
        raise tables.DataError(f"{data}: no turns for split {split!r} (splits: {', '.join(available_splits(data))})")
    by_id: dict[str, list[Turn]] = {}
    for batch in tables.iter_batches(files, ["dialog_id", "turn_index", "speaker", "text", "image_ids"], 8192):
        cols = batch.to_pydict()
        for did, idx, spk, text, imgs in zip(
            cols["dialog_id"], cols["turn_index"], cols["speaker"], cols["text"], cols["image_ids"], strict=True
        ):
            by_id.setdefault(did, []).append(Turn(int(idx), spk, text or "", list(imgs or [])))
    out = []
    for did in sorted(by_id):
        turns = sorted(by_id[did], key=lambda t: t.index)
        out.append(Session(did, split, turns))
    return out


def available_splits(data: str) -> list[str]:
    return [s for s in SPLITS if tables.table_files(data, "turns", s)]


def image_categories(data: str) -> dict[str, str]:
    """image_id -> Table 4 sub-category."""
    return {r["image_id"]: r["category"] for r in read_table(data, "jddc_image_categories", ["image_id", "category"]) if r["image_id"]}


def kb_triples(data: str) -> dict[str, list[tuple[str, str]]]:
    """product id (SKU) -> [(attribute, value), ...]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in read_table(data, "jddc_kb_triples", ["product_id", "attribute", "value"]):
        out.setdefault(r["product_id"], []).append((r["attribute"], r["value"]))
    return out


def query_rewrites(data: str, split: str) -> dict[tuple[str, int], dict]:
    """(dialog_id, turn_index) -> {"rewritable", "rewritten"} for one split."""
    rows = read_table(data, "jddc_query_rewrites", ["dialog_id", "turn_index", "rewritable", "rewritten"], split)
    return {(r["dialog_id"], int(r["turn_index"])): r for r in rows}


def _images(turns: list[Turn]) -> list[str]:
    return [i for t in turns for i in t.image_ids]


def split_history(history: list[Turn]) -> tuple[list[Turn], list[Turn]]:
    """(context, query): the query is the trailing run of user messages of the history."""
    k = len(history)
    while k > 0 and history[k - 1].user:
        k -= 1
    return history[:k], history[k:]


def response_examples(sessions: list[Session]) -> list[Example]:
    out = []
    for s in sessions:
        for i, t in enumerate(s.turns):
            if t.user or not t.text or i == 0 or not s.turns[i - 1].user:
                continue
            context, query = split_history(s.turns[:i])
            out.append(Example(s.dialog_id, t.index, context, query, t.text, _images(s.turns[:i])))
    return out


def rewrite_examples(sessions: list[Session], rewrites: dict[tuple[str, int], dict], rewritable_only: bool = False) -> list[Example]:
    by_session: dict[str, list[tuple[int, dict]]] = {}
    for (did, idx), r in sorted(rewrites.items()):
        by_session.setdefault(did, []).append((idx, r))
    out = []
    for s in sessions:
        pos = {t.index: k for k, t in enumerate(s.turns)}
        for idx, r in by_session.get(s.dialog_id, []):
            if idx not in pos or (rewritable_only and not r["rewritable"]):
                continue
            k = pos[idx]
            turns = s.turns[: k + 1]
            out.append(Example(s.dialog_id, idx, s.turns[:k], [s.turns[k]], r["rewritten"] or "", _images(turns), bool(r["rewritable"])))
    return out
