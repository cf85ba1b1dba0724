"""Pure functions from a parsed ReDial dialog to table rows (turns, rec_samples, dialogs, labels)."""

from __future__ import annotations

import json

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


def rec_sample_rows(dialog_id: str, split: str, turns: list[dict], context_turns: int) -> list[dict]:
    """One sample per recommender turn that mentions at least one resolved movie.

    Positives are the movies that turn mentions (ReDial's convention: what the recommender names is
    what it recommends); ReDial has no negative candidates, so `negative_ids` is empty. The
    context is the preceding turns (already merged per worker), the last `context_turns` of them
    (0: all)."""
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
