"""Pure functions from a parsed ReDial dialog to table rows (turns, rec_samples, dialogs, labels)."""

from __future__ import annotations

import json

from pipelines.core.dialog import mention_rec_samples as rec_sample_rows  # noqa: F401 (shared with INSPIRED)
from pipelines.redial.reader import Dialog, Turn, join_texts, mention_ids, render

DEFAULT_CONTEXT_TURNS = 10


def dedup(items) -> list[str]:
    return list(dict.fromkeys(items))


def turn_texts(turn: Turn, names: dict[str, str]) -> tuple[str, str, list[str]]:
    """(resolved text, `[PH]` text, resolved movie ids in order of first mention) of a merged turn."""
    resolved, templated = zip(*(render(m.text, names) for m in turn.messages), strict=True)
    ids = dedup(i for m in turn.messages for i in mention_ids(m.text) if i in names)
    return join_texts(list(resolved)), join_texts(list(templated)), ids


def turn_row(dialog_id: str, split: str, turn: Turn, text: str, templated: str, ids: list[str]) -> dict:
    annotations = {
        "role": turn.role,
        "worker_id": turn.worker_id,
        "message_ids": [m.message_id for m in turn.messages],
        "message_indices": [m.index for m in turn.messages],
        "time_offsets": [m.time_offset for m in turn.messages],
    }
    return {
        "dialog_id": dialog_id,
        "split": split,
        "turn_index": turn.index,
        "speaker": turn.speaker,
        "text": text,
        "text_templated": templated,
        "image_refs": [],
        "image_ids": [],
        "item_ids": ids,
        "annotations": json.dumps(annotations, sort_keys=True),
    }


def dialog_row(dialog: Dialog, split: str, source: str, line: int) -> dict:
    meta = {
        "line": line,
        "initiator_worker_id": dialog.initiator,
        "respondent_worker_id": dialog.respondent,
        "num_messages": dialog.num_messages,
        "movie_mentions": dialog.movie_mentions,
    }
    return {
        "dialog_id": dialog.conversation_id,
        "split": split,
        "source": source,
        "num_turns": len(dialog.turns),
        "domain": "movies",
        "meta": json.dumps(meta, sort_keys=True, ensure_ascii=False),
    }


def label_row(
    dialog_id: str, split: str, movie_id: str, form: str, name: str | None, labels: dict, by_seeker: set, by_recommender: set
) -> dict:
    return {
        "dialog_id": dialog_id,
        "split": split,
        "movie_id": movie_id,
        "form": form,
        "movie_name": name,
        **labels,
        "mentioned_by_seeker": movie_id in by_seeker,
        "mentioned_by_recommender": movie_id in by_recommender,
    }
