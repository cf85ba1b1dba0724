"""Summarisation examples: each annotated session, its trivial utterances and its summary.

The paper's annotators first filter out the trivial utterances (greeting, waiting,
self-introduction; section 3.2), then summarise what is left. The models read the same thing:
the session minus its trivial utterances, chosen by `summary.trivial`:
- `predicted` (default): a classifier trained on the training split's trivial flags decides
  (summary.trivial.TrivialFilter), so nothing at test time comes from the annotation;
- `gold`: the annotated flags (an oracle upper bound);
- `keep`: no filtering (the whole session).
An image message reads as `[图片]` in text (IMAGE_MARK); multimodal models also get its features.
"""

from __future__ import annotations

from dataclasses import dataclass

from modeling.jddc.data import IMAGE_MARK, Turn, load_sessions, read_table

TRIVIAL_MODES = ("predicted", "gold", "keep")


@dataclass
class SummaryExample:
    dialog_id: str
    turns: list[Turn]
    trivial: set[int]  # annotated trivial turn indices
    summary: str


def summary_examples(data: str, split: str) -> list[SummaryExample]:
    """The annotated sessions of `split` (those with a `jddc_summaries` row), sorted by dialog id."""
    rows = {r["dialog_id"]: r for r in read_table(data, "jddc_summaries", ["dialog_id", "trivial_turn_indices", "summary"], split)}
    if not rows:
        return []
    out = []
    for s in load_sessions(data, split):
        if s.dialog_id in rows:
            r = rows[s.dialog_id]
            out.append(SummaryExample(s.dialog_id, s.turns, set(r["trivial_turn_indices"] or []), r["summary"]))
    return out


def kept_turns(x: SummaryExample, mode: str, trivial_filter=None) -> list[Turn]:
    """The turns a summariser reads under `mode` (see the module docstring)."""
    if mode == "keep":
        return list(x.turns)
    if mode == "gold":
        return [t for t in x.turns if t.index not in x.trivial]
    if mode == "predicted":
        if trivial_filter is None:
            raise ValueError("summary.trivial=predicted needs a trained TrivialFilter")
        return [t for t in x.turns if not trivial_filter.is_trivial(t)]
    raise ValueError(f"summary.trivial={mode!r}: one of {', '.join(TRIVIAL_MODES)}")


def plain_text(turns: list[Turn]) -> str:
    """The turns' text run together (images as IMAGE_MARK): what Lead and LexRank read."""
    return "".join(t.text if t.text else (IMAGE_MARK if t.image_ids else "") for t in turns)
