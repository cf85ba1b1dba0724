"""The JDDC 2.1 side inputs in their documented JSONL forms (docs/exchange-formats.md; README card).

    query_rewrites.jsonl   {"session_id", "turn_index", "rewritable": bool, "rewritten": str|null, "query_turn_indices"?: [int]}
    discourse.jsonl        {"session_id", "turn_index", "parent_turn_index", "relation": "L1/L2/L3"}
    summaries.jsonl        {"session_id", "trivial_turn_indices": [int], "summary": str}
    image_categories.jsonl {"image": "<md5>.jpg", "category": <Table 4 sub-category>}
    kb.tsv                 sku<TAB>attribute<TAB>value   (or kb.jsonl {"sku", "attribute", "value"})

Every annotation line may also carry "annotator", "created_at", "lead_time_s" and "version"
(revision, default 1). Validation here is what can be checked on the line alone; references to
sessions and EDUs are checked when the session is built (builder.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pipelines.core import io
from pipelines.core.context import Reject
from schemas.jddc import IMAGE_CATEGORY_GROUPS, normalise_category, normalise_relation, split_relation

LAYER_FILES = {
    "rewrites": "query_rewrites.jsonl",
    "discourse": "discourse.jsonl",
    "summaries": "summaries.jsonl",
}
CATEGORIES_FILE = "image_categories.jsonl"
KB_FILES = ("kb.tsv", "kb.jsonl")


def iter_jsonl(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(locator, raw line) for every non-blank line."""
    for n, line in io.iter_lines(data):
        if line.strip():
            yield f"line {n}", line


def _object(raw: bytes) -> dict:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Reject(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise Reject(f"wrong type: a line must be a JSON object, got {type(obj).__name__}")
    return obj


def _int(obj: dict, key: str, minimum: int = 0) -> int:
    v = obj.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise Reject(f"{key} must be an integer >= {minimum}, got {v!r}")
    return v


def _str(obj: dict, key: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v.strip():
        raise Reject(f"{key} must be a non-empty string, got {v!r}")
    return v


def _common(obj: dict) -> dict:
    version = obj.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise Reject(f"version must be an integer >= 1, got {version!r}")
    annotator, created = obj.get("annotator"), obj.get("created_at")
    return {
        "annotator": None if annotator is None else str(annotator),
        "created_at": None if created is None else str(created),
        "version": version,
    }


def parse_rewrite(raw: bytes) -> dict:
    obj = _object(raw)
    sid, ti = _str(obj, "session_id"), _int(obj, "turn_index")
    rewritable = obj.get("rewritable")
    if not isinstance(rewritable, bool):
        raise Reject(f"rewritable must be true or false, got {rewritable!r}")
    rewritten = obj.get("rewritten")
    if rewritable:
        rewritten = _str(obj, "rewritten")
    elif rewritten is not None and not isinstance(rewritten, str):
        raise Reject(f"rewritten must be a string or null, got {type(rewritten).__name__}")
    else:
        rewritten = None  # a text left on a query judged not rewritable is not a rewrite
    rec = {"session_id": sid, "turn_index": ti, "rewritable": rewritable, "rewritten": rewritten, **_common(obj)}
    query_turns = obj.get("query_turn_indices")
    if query_turns is not None:  # every message of the query (its images sit on them); optional
        if not isinstance(query_turns, list) or not all(isinstance(q, int) and not isinstance(q, bool) and q >= 0 for q in query_turns):
            raise Reject(f"query_turn_indices must be a list of turn indices, got {query_turns!r}")
        rec["query_turn_indices"] = sorted(set(query_turns) | {ti})
    return rec


def parse_discourse(raw: bytes) -> dict:
    obj = _object(raw)
    sid, ti, parent = _str(obj, "session_id"), _int(obj, "turn_index", 1), _int(obj, "parent_turn_index")
    if parent >= ti:
        raise Reject(f"parent_turn_index {parent} must be before turn_index {ti}")
    relation = normalise_relation(_str(obj, "relation"))
    if relation is None:
        raise Reject(
            f"unknown relation {obj.get('relation')!r}: expected Level1/Level2/Level3 from Table 12 (schemas.jddc.DISCOURSE_RELATIONS)"
        )
    l1, l2, l3 = split_relation(relation)
    return {
        "session_id": sid,
        "turn_index": ti,
        "parent_turn_index": parent,
        "relation": relation,
        "level1": l1,
        "level2": l2,
        "level3": l3,
        **_common(obj),
    }


def parse_summary(raw: bytes) -> dict:
    obj = _object(raw)
    sid, summary = _str(obj, "session_id"), _str(obj, "summary")
    trivial = obj.get("trivial_turn_indices", [])
    if not isinstance(trivial, list) or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in trivial):
        raise Reject(f"trivial_turn_indices must be a list of integers >= 0, got {trivial!r}")
    return {"session_id": sid, "trivial_turn_indices": sorted(set(trivial)), "summary": summary, **_common(obj)}


def parse_category(raw: bytes) -> dict:
    obj = _object(raw)
    image = _str(obj, "image").strip()
    category = normalise_category(_str(obj, "category"))
    if category is None:
        raise Reject(
            f"unknown image category {obj.get('category')!r}: expected one of the 15 sub-categories of Table 4 (schemas.jddc.IMAGE_CATEGORIES)"
        )
    return {"image": image, "category": category, "category_group": IMAGE_CATEGORY_GROUPS[category], **_common(obj)}


PARSERS = {"rewrites": parse_rewrite, "discourse": parse_discourse, "summaries": parse_summary, "categories": parse_category}


def layer_key(layer: str, rec: dict) -> tuple:
    """What one annotation is about: revisions of the same key replace each other."""
    if layer == "summaries":
        return (rec["session_id"],)
    if layer == "categories":
        return (rec["image"],)
    return (rec["session_id"], rec["turn_index"])


def load_layer(layer: str, path: str) -> dict[str, list[tuple[str, dict]]]:
    """session id (image name for categories) -> [(locator, record)] of the valid lines, in file
    order (invalid ones are dead-lettered by the layer's own work unit, so they are skipped here)."""
    out: dict[str, list[tuple[str, dict]]] = {}
    for locator, raw in iter_jsonl(io.read_bytes(path)):
        try:
            rec = PARSERS[layer](raw)
        except Reject:
            continue
        out.setdefault(layer_key(layer, rec)[0], []).append((locator, rec))
    return out


def parse_kb_line(line: bytes, jsonl: bool) -> tuple[str, str, str]:
    if jsonl:
        obj = _object(line)
        sku, attr = _str(obj, "sku").strip(), _str(obj, "attribute").strip()
        value = obj.get("value")
        if value is None or isinstance(value, (dict, list)):
            raise Reject(f"value must be a string or number, got {value!r}")
        value = str(value).strip()
    else:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Reject(f"not UTF-8: {exc}") from None
        fields = text.split("\t")
        if len(fields) != 3:
            raise Reject(f"wrong column count: {len(fields)} of 3 (sku, attribute, value)")
        sku, attr, value = (f.strip() for f in fields)
        if not sku or not attr:
            raise Reject("empty sku or attribute")
    if not value:
        raise Reject("empty value")
    return sku, attr, value
