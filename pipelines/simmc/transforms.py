"""Pure functions from parsed SIMMC dialogs and scene objects to table rows.

- A source turn (user utterance + assistant reply) becomes two `turns` rows; the source
  `turn_idx`, the scene in force and the source's annotations go to `turns.annotations`.
- Dialog states: the user's `slot_values` accumulated over the dialog (source `gold`).
- Recommendation samples (SeMANTIC section 5): for each source turn whose annotation (user side,
  or system side with `objects_from="system"`) references objects, positives are those objects
  and negatives every other object of the scene in force. The sample sits at the assistant row
  of that turn, so its context (the rows before it) ends with the user's utterance.
"""

from __future__ import annotations

import json

from pipelines.core.dialog import Utterance, merge_context
from pipelines.simmc.reader import Dialog, SceneObject, SourceTurn
from schemas.core import SPLIT_SHARED

DEFAULT_CONTEXT_TURNS = 10
OBJECT_SIDES = ("user", "system")


def product_id(scene: str, index: int) -> str:
    return f"{scene}:{index}"


def stringify(value) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(stringify(v) for v in value if v is not None)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False)


def utterances(dialog: Dialog) -> list[tuple[Utterance, SourceTurn]]:
    """The dialog's `turns` rows in order, each with the source turn it came from."""
    out: list[tuple[Utterance, SourceTurn]] = []
    for t in dialog.turns:
        scene = dialog.scene_at(t.turn_idx)
        user_ann = {"turn_idx": t.turn_idx, "scene": scene, **t.user_extra}
        if t.user_ann is not None:
            user_ann["annotated"] = t.user_ann
        sys_ann: dict = {"turn_idx": t.turn_idx, "scene": scene}
        if t.system_ann is not None:
            sys_ann["annotated"] = t.system_ann
        if t.system_transcript is None:
            sys_ann["response_withheld"] = True
        for speaker, text, ann in (("user", t.transcript, user_ann), ("system", t.system_transcript or "", sys_ann)):
            out.append((Utterance(len(out), t.turn_idx, speaker, text.strip(), [], [], ann), t))
    return out


def turn_rows(dialog: Dialog, split: str, utts: list[tuple[Utterance, SourceTurn]], scene_name) -> list[dict]:
    """`scene_name(name)` maps a dialog's scene name to the one product ids use."""
    rows = []
    for u, t in utts:
        scene = u.annotations.get("scene")
        objs = t.objects(u.speaker)
        rows.append(
            {
                "dialog_id": dialog.dialog_id,
                "split": split,
                "turn_index": u.index,
                "speaker": u.speaker,
                "text": u.text,
                "text_templated": None,
                "image_refs": [],
                "image_ids": [],
                "item_ids": [product_id(scene_name(scene), o) for o in dict.fromkeys(objs)] if scene else [],
                "annotations": _dumps(u.annotations),
            }
        )
    return rows


def dialog_row(dialog: Dialog, split: str, source: str, num_turns: int, meta: dict) -> dict:
    return {
        "dialog_id": dialog.dialog_id,
        "split": split,
        "source": source,
        "num_turns": num_turns,
        "domain": dialog.domain,
        "meta": _dumps(
            {
                **meta,
                "scene_ids": {str(k): v for k, v in dialog.scene_ids.items()},
                "mentioned_object_ids": dialog.mentioned_object_ids,
            }
        ),
    }


def state_rows(dialog: Dialog, split: str, utts: list[tuple[Utterance, SourceTurn]]) -> list[dict]:
    """Belief state after each annotated user turn: slot_values accumulated, values as strings.

    Per-object values (`{"Object ID: 36": {...}}`, a system-side habit) contribute their inner
    slots, so keys stay catalogue attributes."""
    belief: dict[str, str] = {}
    rows = []
    for u, t in utts:
        if u.speaker != "user" or t.user_ann is None:
            continue
        for slot, value in t.slot_values().items():
            if isinstance(value, dict):
                belief.update({str(k): stringify(v) for k, v in value.items() if v is not None})
            elif value is not None:
                belief[str(slot)] = stringify(value)
        rows.append(
            {
                "dialog_id": dialog.dialog_id,
                "split": split,
                "turn_index": u.index,
                "slots": sorted(belief.items()),
                "source": "gold",
                "annotator": None,
                "created_at": None,
            }
        )
    return rows


def sample_turns(utts: list[tuple[Utterance, SourceTurn]], side: str) -> list[tuple[int, SourceTurn, list[int]]]:
    """(turns row of the sample, source turn, referenced objects) for turns that reference objects."""
    out = []
    for u, t in utts:
        if u.speaker != "system":
            continue
        objs = list(dict.fromkeys(t.objects(side)))
        if objs:
            out.append((u.index, t, objs))
    return out


def rec_sample_row(
    dialog: Dialog,
    split: str,
    utts: list[tuple[Utterance, SourceTurn]],
    turn_index: int,
    scene: str,
    positives: list[int],
    scene_objects: list[int],
    context_turns: int,
) -> dict:
    context = merge_context([u for u, _ in utts], {}, turn_index, context_turns)
    pos = [product_id(scene, o) for o in positives]
    neg = [product_id(scene, o) for o in sorted(scene_objects) if o not in set(positives)]
    return {
        "sample_id": f"{dialog.dialog_id}:{turn_index}",
        "dialog_id": dialog.dialog_id,
        "split": split,
        "turn_index": turn_index,
        "context": context,
        "context_start": context[0]["turn_index"] if context else turn_index,
        "positive_ids": pos,
        "negative_ids": neg,
        "num_positives": len(pos),
        "num_negatives": len(neg),
    }


def product_row(scene: str, obj: SceneObject, meta: dict, source: str, screenshot: str, image_id: str) -> dict:
    attrs = {str(k): stringify(v) for k, v in sorted(meta.items()) if v not in (None, "", [], {})}
    attrs["prefab_path"] = obj.prefab_path
    text_attrs = {k: v for k, v in attrs.items() if k not in ("prefab_path", "url")}
    x, y, h, w = obj.bbox
    return {
        "product_id": product_id(scene, obj.index),
        "split": SPLIT_SHARED,
        "name": obj.prefab_path.rsplit("/", 1)[-1],
        "category": attrs.get("type") or attrs.get("assetType"),
        "attributes": sorted(attrs.items()),
        "description": "; ".join(f"{k}: {v}" for k, v in text_attrs.items()),
        "image_refs": [f"{screenshot}#bbox={x},{y},{h},{w}"],
        "image_ids": [image_id],
        "source": source,
    }
