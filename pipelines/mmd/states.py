"""Dialog states for MMD-v3: the documented input form (and what `mmdial annotate pull` exports).

JSON Lines, one object per annotated user turn:

    {"dialog_id": "200_10", "turn_index": 4, "slots": {"type": "sunglasses", "color": "black"},
     "source": "annotated", "annotator": "ann-3", "created_at": "2026-11-02T10:00:00Z"}

`turn_index` counts the dialog's non-null utterances from 0 (as `turns.turn_index`) and must be a
user turn; `slots` holds the belief state after that turn, keys being catalogue attributes, values
strings; `source` is gold, annotated or predicted (default annotated). A Parquet file with these
columns is accepted too.
"""

from __future__ import annotations

import io as _io
import json

from pipelines.core import io
from pipelines.core.context import Reject
from schemas.core import STATE_SOURCES, pairs_to_dict


def validate_state(obj) -> dict:
    if not isinstance(obj, dict):
        raise Reject(f"wrong type: a state must be an object, got {type(obj).__name__}")
    did = obj.get("dialog_id")
    if not isinstance(did, str) or not did:
        raise Reject("missing dialog_id")
    ti = obj.get("turn_index")
    if not isinstance(ti, int) or isinstance(ti, bool) or ti < 0:
        raise Reject(f"turn_index must be a non-negative integer, got {ti!r}")
    slots = obj.get("slots")
    if isinstance(slots, list):  # a Parquet slots column comes back as key/value pairs
        try:
            slots = pairs_to_dict(slots)
        except (KeyError, TypeError, ValueError):
            raise Reject("slots must be an object of slot -> value") from None
    if not isinstance(slots, dict) or not all(isinstance(k, str) for k in slots):
        raise Reject("slots must be an object of slot -> value")
    source = obj.get("source") or "annotated"
    if source not in STATE_SOURCES:
        raise Reject(f"source must be one of {STATE_SOURCES}, got {source!r}")
    return {
        "dialog_id": did,
        "turn_index": ti,
        "slots": {k: ("none" if v is None else str(v)) for k, v in sorted(slots.items())},
        "source": source,
        "annotator": obj.get("annotator"),
        "created_at": obj.get("created_at"),
    }


def iter_state_records(path: str, data: bytes):
    """(locator, raw object or raw line bytes) for every record of a states file."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        for i, row in enumerate(pq.read_table(_io.BytesIO(data)).to_pylist()):
            yield f"row {i}", row
        return
    for n, line in io.iter_lines(data):
        if line.strip():
            yield f"line {n}", line


def decode(raw):
    return json.loads(raw) if isinstance(raw, bytes) else raw


def load_valid_states(path: str) -> dict[str, list[dict]]:
    """dialog_id -> valid states (invalid ones are dead-lettered by the states work unit)."""
    out: dict[str, list[dict]] = {}
    for _, raw in iter_state_records(path, io.read_bytes(path)):
        try:
            s = validate_state(decode(raw))
        except (Reject, ValueError):
            continue
        out.setdefault(s["dialog_id"], []).append(s)
    return out
