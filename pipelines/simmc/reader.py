"""Parse and validate SIMMC 2.0 / 2.1 dialogs and scene JSONs (FORMATS.md section 1).

Both dialog flavours go through one parser; what moved between versions is normalised here:
- `disambiguation_label` sits on the turn in 2.0 and inside `transcript_annotated` in 2.1
  (the user row's annotations carry it either way, verbatim where the source put it);
- `act_attributes.objects` (the README's `object` is read too, for hand-made files);
- test-std public files drop `transcript_annotated` and, on the last turn, `system_transcript`
  (the response to generate): that turn's system row is kept with empty text and
  `response_withheld: true`;
- `year` is an int or (2.1 test-std) a string.
Anything of the wrong type raises `Reject` with the JSON path, so the dialog is dead-lettered
with a reason instead of half-building.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pipelines.core.context import Reject

# turn-level keys that belong to the user side of a source turn (2.0 puts the label here)
USER_TURN_KEYS = ("disambiguation_label", "disambiguation_transcript")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass
class SourceTurn:
    turn_idx: int
    transcript: str
    system_transcript: str | None  # None: withheld (test-std public, last turn)
    user_ann: dict | None  # transcript_annotated, verbatim
    system_ann: dict | None  # system_transcript_annotated, verbatim
    user_extra: dict = field(default_factory=dict)  # turn-level user keys (2.0 disambiguation_label, ...)

    def objects(self, side: str) -> list[int]:
        ann = self.user_ann if side == "user" else self.system_ann
        return objects_of(ann)

    def slot_values(self) -> dict:
        attrs = (self.user_ann or {}).get("act_attributes") or {}
        return attrs.get("slot_values") or {}


@dataclass
class Dialog:
    dialogue_idx: int
    domain: str | None
    turns: list[SourceTurn]
    scene_ids: dict[int, str]  # start turn_idx -> scene name
    mentioned_object_ids: list[int] | None

    @property
    def dialog_id(self) -> str:
        return str(self.dialogue_idx)

    def scene_at(self, turn_idx: int) -> str | None:
        """The scene in force: the one with the largest start index not after the turn."""
        starts = [s for s in self.scene_ids if s <= turn_idx]
        return self.scene_ids[max(starts)] if starts else None


def objects_of(ann: dict | None) -> list[int]:
    if not ann:
        return []
    attrs = ann.get("act_attributes") or {}
    objs = attrs.get("objects", attrs.get("object")) or []
    return list(objs)


def _check_ann(ann, where: str) -> dict | None:
    if ann is None:
        return None
    if not isinstance(ann, dict):
        raise Reject(f"wrong type: {where} must be an object, got {type(ann).__name__}")
    attrs = ann.get("act_attributes")
    if attrs is None:
        return ann
    if not isinstance(attrs, dict):
        raise Reject(f"wrong type: {where}.act_attributes must be an object, got {type(attrs).__name__}")
    objs = attrs.get("objects", attrs.get("object"))
    if objs is not None and (not isinstance(objs, list) or not all(_is_int(o) for o in objs)):
        raise Reject(f"wrong type: {where}.act_attributes.objects must be a list of integers, got {json.dumps(objs)[:80]}")
    sv = attrs.get("slot_values")
    if sv is not None and not isinstance(sv, dict):
        raise Reject(f"wrong type: {where}.act_attributes.slot_values must be an object, got {type(sv).__name__}")
    return ann


def parse_dialog(doc) -> Dialog:
    if not isinstance(doc, dict):
        raise Reject(f"wrong type: a dialog must be an object, got {type(doc).__name__}")
    idx = doc.get("dialogue_idx")
    if not _is_int(idx):
        raise Reject(f"wrong type: dialogue_idx must be an integer, got {json.dumps(idx)[:40]}")
    raw_turns = doc.get("dialogue")
    if not isinstance(raw_turns, list):
        raise Reject(f"wrong type: dialogue must be a list of turns, got {type(raw_turns).__name__}")
    if not raw_turns:
        raise Reject("empty dialog: no turns")
    scene_ids = doc.get("scene_ids")
    if not isinstance(scene_ids, dict) or not scene_ids:
        raise Reject(f"wrong type: scene_ids must be a non-empty object, got {json.dumps(scene_ids)[:80]}")
    scenes: dict[int, str] = {}
    for k, v in scene_ids.items():
        try:
            start = int(k)
        except ValueError:
            raise Reject(f"scene_ids key {k!r} is not a turn index") from None
        if not isinstance(v, str) or not v:
            raise Reject(f"wrong type: scene_ids[{k!r}] must be a scene name, got {json.dumps(v)[:40]}")
        scenes[start] = v
    domain = doc.get("domain")
    if domain is not None and not isinstance(domain, str):
        raise Reject(f"wrong type: domain must be a string, got {type(domain).__name__}")
    mentioned = doc.get("mentioned_object_ids")
    if mentioned is not None and (not isinstance(mentioned, list) or not all(_is_int(o) for o in mentioned)):
        raise Reject("wrong type: mentioned_object_ids must be a list of integers")
    turns: list[SourceTurn] = []
    for pos, t in enumerate(raw_turns):
        where = f"dialogue[{pos}]"
        if not isinstance(t, dict):
            raise Reject(f"wrong type: {where} must be an object, got {type(t).__name__}")
        ti = t.get("turn_idx")
        if not _is_int(ti):
            raise Reject(f"wrong type: {where}.turn_idx must be an integer, got {json.dumps(ti)[:40]}")
        if turns and ti <= turns[-1].turn_idx:
            raise Reject(f"{where}.turn_idx {ti} does not follow {turns[-1].turn_idx} (turns must be in order)")
        text = t.get("transcript")
        if not isinstance(text, str):
            raise Reject(f"wrong type: {where}.transcript must be a string, got {type(text).__name__}")
        sys_text = t.get("system_transcript")
        if sys_text is not None and not isinstance(sys_text, str):
            raise Reject(f"wrong type: {where}.system_transcript must be a string, got {type(sys_text).__name__}")
        turns.append(
            SourceTurn(
                turn_idx=ti,
                transcript=text,
                system_transcript=sys_text,
                user_ann=_check_ann(t.get("transcript_annotated"), f"{where}.transcript_annotated"),
                system_ann=_check_ann(t.get("system_transcript_annotated"), f"{where}.system_transcript_annotated"),
                user_extra={k: t[k] for k in USER_TURN_KEYS if k in t},
            )
        )
    return Dialog(idx, domain, turns, dict(sorted(scenes.items())), mentioned)


def file_meta(header: dict) -> dict:
    """The dialog file's own top-level fields, normalised (year is a string in 2.1 test-std)."""
    out = {k: v for k, v in header.items() if k in ("split", "domain", "version")}
    year = header.get("year")
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year)
    if year is not None:
        out["year"] = year
    return out


# -- scenes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SceneObject:
    index: int
    prefab_path: str
    bbox: tuple[int, int, int, int]  # as in the file: x, y, HEIGHT, WIDTH
    unique_id: int | None

    def crop_box(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) clipped to the screenshot, or None when nothing of it is inside."""
        x, y, h, w = self.bbox
        x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def parse_scene(data: bytes) -> tuple[list[SceneObject], dict[int, str]]:
    """(objects that parse, {index or -position: problem}) for one `<scene>_scene.json`.

    Raises Reject when the file as a whole is unusable (bad JSON, no scenes list)."""
    doc = json.loads(data)
    scenes = doc.get("scenes") if isinstance(doc, dict) else None
    if not isinstance(scenes, list) or not scenes:
        raise Reject("wrong type: a scene file must be an object with a non-empty 'scenes' list")
    objects: list[SceneObject] = []
    problems: dict[int, str] = {}
    seen: set[int] = set()
    pos = 0
    for s_i, scene in enumerate(scenes):
        if not isinstance(scene, dict) or not isinstance(scene.get("objects"), list):
            raise Reject(f"wrong type: scenes[{s_i}] must be an object with an 'objects' list")
        for o in scene["objects"]:
            pos += 1
            idx = o.get("index") if isinstance(o, dict) else None
            if not _is_int(idx):
                problems[-pos] = f"object #{pos - 1}: index must be an integer, got {json.dumps(idx)[:40]}"
                continue
            bbox, prefab = o.get("bbox"), o.get("prefab_path")
            if idx in seen:
                problems[idx] = f"object {idx}: duplicate index"
            elif not isinstance(prefab, str) or not prefab:
                problems[idx] = f"object {idx}: prefab_path must be a string"
            elif not (
                isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
            ):
                problems[idx] = f"object {idx}: bbox must be 4 numbers [x, y, h, w], got {json.dumps(bbox)[:60]}"
            else:
                uid = o.get("unique_id")
                objects.append(SceneObject(idx, prefab, tuple(int(round(v)) for v in bbox), uid if _is_int(uid) else None))
            seen.add(idx)
    return objects, problems
