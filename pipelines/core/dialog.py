"""What every dialogue data set shares once its native format is parsed: the utterance, and the
recommendation context built from the utterances before a turn."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Utterance:
    index: int  # position among the kept (non-null) utterances
    source_index: int  # position in the file's JSON list
    speaker: str
    text: str
    images: list[str]
    false_images: list[str]
    annotations: dict


def merge_context(utts: list[Utterance], image_ids: dict[int, list[str]], upto: int, max_turns: int) -> list[dict]:
    """Utterances before `upto`, consecutive same-speaker ones merged, the last `max_turns` kept."""
    groups: list[dict] = []
    for u in utts[:upto]:
        if groups and groups[-1]["speaker"] == u.speaker:
            g = groups[-1]
            g["text"] = f"{g['text']} {u.text}".strip() if u.text else g["text"]
            g["image_refs"] += u.images
            g["image_ids"] += image_ids.get(u.index, [])
        else:
            groups.append(
                {
                    "turn_index": u.index,
                    "speaker": u.speaker,
                    "text": u.text,
                    "image_refs": list(u.images),
                    "image_ids": list(image_ids.get(u.index, [])),
                }
            )
    return groups[-max_turns:] if max_turns > 0 else groups
