"""Parse one native MMD dialog file (a JSON list of utterances) into validated utterances.

Both releases share this per-utterance schema; they differ only in what `images` holds (URLs in
Saha's release, image ids in MMD 2.0), which `images.ImageResolver` deals with.
"""

from __future__ import annotations

import json

from pipelines.core.context import Reject
from pipelines.core.dialog import Utterance

SPEAKERS = {"user": "user", "system": "system"}
ANNOTATION_KEYS = ("type", "question-type", "question-subtype")
UTTERANCE_ANNOTATION_KEYS = ("false nlg", "search_criteria", "compulsory_fields")


def _str_list(value, what: str, where: int) -> list[str]:
    if value is None or value == []:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Reject(f"wrong type: utterance {where} '{what}' must be a list of strings, got {type(value).__name__}")
    return [v for v in value if v]


def parse_dialog(data: bytes) -> list[Utterance]:
    """Raise Reject (or a JSON error) for anything a build must not silently accept."""
    doc = json.loads(data)
    if not isinstance(doc, list):
        raise Reject(f"wrong type: a dialog file must be a JSON list of utterances, got {type(doc).__name__}")
    out: list[Utterance] = []
    for i, u in enumerate(doc):
        if u is None or u == {}:
            continue  # the official readers skip null/empty entries
        if not isinstance(u, dict):
            raise Reject(f"wrong type: utterance {i} must be an object, got {type(u).__name__}")
        speaker = u.get("speaker")
        if speaker not in SPEAKERS:
            raise Reject(f"unknown speaker {speaker!r} at utterance {i}")
        body = u.get("utterance")
        if not isinstance(body, dict):
            raise Reject(f"wrong type: utterance {i} 'utterance' must be an object, got {type(body).__name__}")
        nlg = body.get("nlg")
        if nlg is not None and not isinstance(nlg, str):
            raise Reject(f"wrong type: utterance {i} 'nlg' must be a string or null, got {type(nlg).__name__}")
        ann = {k: u[k] for k in ANNOTATION_KEYS if u.get(k) is not None}
        ann.update({k: body[k] for k in UTTERANCE_ANNOTATION_KEYS if body.get(k) is not None})
        out.append(
            Utterance(
                index=len(out),
                source_index=i,
                speaker=SPEAKERS[speaker],
                text=(nlg or "").strip(),
                images=_str_list(body.get("images"), "images", i),
                false_images=_str_list(body.get("false images"), "false images", i),
                annotations=ann,
            )
        )
    if not out:
        raise Reject("empty dialog: no utterances")
    return out
