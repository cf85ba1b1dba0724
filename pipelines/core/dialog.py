"""What every dialogue data set shares once its native format is parsed: the utterance, and the
recommendation context built from the utterances before a turn."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Utterance:
    index: int  # position among the kept (non-null) utterances
    source_index: int  # position in the file's JSON list
    speaker: str
    text: str
    images: list[str]
    false_images: list[str]
    annotations: dict


class ContextIndex:
    """The merged context before any utterance of one dialog, built in one pass.

    Consecutive same-speaker utterances merge into one group (text joined by a space, images
    concatenated). Every sample of a dialog needs the groups before its turn; recomputing them per
    sample is quadratic in the dialog's length, so the groups are built once and each query takes
    the finished ones plus, when the turn falls inside a group, that group's part before the turn."""

    def __init__(self, utts: list[Utterance], image_ids: dict[int, list[str]]):
        self.utts = utts
        self.image_ids = image_ids
        self.groups: list[dict] = []
        self.starts: list[int] = []  # position in `utts` where each group starts
        self.ends: list[int] = []
        for pos, u in enumerate(utts):
            if self.groups and self.groups[-1]["speaker"] == u.speaker:
                _extend(self.groups[-1], u, image_ids)
                self.ends[-1] = pos + 1
            else:
                self.groups.append(_group(u, image_ids))
                self.starts.append(pos)
                self.ends.append(pos + 1)

    def context(self, upto: int, max_turns: int) -> list[dict]:
        """The groups of `utts[:upto]`, the last `max_turns` kept (all when max_turns <= 0)."""
        import bisect

        k = bisect.bisect_left(self.starts, upto)  # groups that start before `upto`
        out = self.groups[:k]
        if k and self.ends[k - 1] > upto:  # `upto` falls inside the last one: only its part before
            a = self.starts[k - 1]
            part = _group(self.utts[a], self.image_ids)
            for u in self.utts[a + 1 : upto]:
                _extend(part, u, self.image_ids)
            out[-1] = part
        return out[-max_turns:] if max_turns > 0 else out


def _group(u: Utterance, image_ids: dict[int, list[str]]) -> dict:
    return {
        "turn_index": u.index,
        "speaker": u.speaker,
        "text": u.text,
        "image_refs": list(u.images),
        "image_ids": list(image_ids.get(u.index, [])),
    }


def _extend(g: dict, u: Utterance, image_ids: dict[int, list[str]]) -> None:
    g["text"] = f"{g['text']} {u.text}".strip() if u.text else g["text"]
    g["image_refs"] += u.images
    g["image_ids"] += image_ids.get(u.index, [])


def merge_context(utts: list[Utterance], image_ids: dict[int, list[str]], upto: int, max_turns: int) -> list[dict]:
    """Utterances before `upto`, consecutive same-speaker ones merged, the last `max_turns` kept
    (for many turns of one dialog, build one `ContextIndex`)."""
    return ContextIndex(utts[:upto], image_ids).context(upto, max_turns)


def mention_rec_samples(dialog_id: str, split: str, turns: list[dict], context_turns: int) -> list[dict]:
    """One sample per recommender turn that mentions at least one resolved movie.

    For movie-recommendation dialogues (ReDial, INSPIRED): positives are the movies that turn
    mentions (what the recommender names is what it recommends); there are no negative candidates,
    so `negative_ids` is empty. `turns` are turn rows (`turn_index`, `speaker`, `text`, `item_ids`);
    the context is the preceding turns, the last `context_turns` of them (0: all)."""
    rows = []
    for t in turns:
        if t["speaker"] != "system" or not t["item_ids"]:
            continue
        before = turns[: t["turn_index"]]
        if context_turns > 0:
            before = before[-context_turns:]
        context = [
            {"turn_index": c["turn_index"], "speaker": c["speaker"], "text": c["text"], "image_ids": [], "image_refs": []} for c in before
        ]
        rows.append(
            {
                "sample_id": f"{dialog_id}:{t['turn_index']}",
                "dialog_id": dialog_id,
                "split": split,
                "turn_index": t["turn_index"],
                "context": context,
                "context_start": context[0]["turn_index"] if context else t["turn_index"],
                "positive_ids": list(t["item_ids"]),
                "negative_ids": [],
                "num_positives": len(t["item_ids"]),
                "num_negatives": 0,
            }
        )
    return rows
