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
