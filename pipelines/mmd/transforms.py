"""Pure functions from parsed MMD utterances and product files to table rows."""

from __future__ import annotations

import json

from pipelines.core.dialog import ContextIndex, Utterance, merge_context  # noqa: F401 - merge_context re-exported
from pipelines.mmd.images import ImageResolver, stem
from schemas.core import SPLIT_SHARED

#: one encoder for every row: `json.dumps` with options builds a new JSONEncoder per call
canonical_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
DEFAULT_CONTEXT_TURNS = 10  # the paper trains on 5; keeping 10 lets that grow without a rebuild


def turn_row(dialog_id: str, split: str, u: Utterance, ids: list[str]) -> dict:
    return {
        "dialog_id": dialog_id,
        "split": split,
        "turn_index": u.index,
        "speaker": u.speaker,
        "text": u.text,
        "text_templated": None,
        "image_refs": u.images,
        "image_ids": ids,
        "item_ids": [],
        "annotations": canonical_json(u.annotations) if u.annotations else None,
    }


def rec_sample_rows(
    dialog_id: str,
    split: str,
    utts: list[Utterance],
    image_ids: dict[int, list[str]],
    resolver: ImageResolver,
    context_turns: int,
    refused: dict[tuple[str, str], list[str]] | None = None,
    products: set[str] | frozenset[str] | None = None,
) -> list[dict]:
    """One sample per system utterance with both positives (images) and negatives (false images).

    A product id is the stem of the file an image reference names, so a reference the resolver
    refuses (unmapped, ambiguous, outside the image folder, no such file) names no product: its
    id is left out, and `refused[(ref, reason)]` collects the samples it was left out of (a sample
    left without positives is not written). The caller dead-letters each entry."""
    rows = []
    index = None
    refused = {} if refused is None else refused

    def kept(refs: list[str], sample_id: str) -> list[str]:
        out = []
        for r in refs:
            why = resolver.refusal(r)
            pid = resolver.product_id(r)
            if not why and products is not None and pid not in products:
                why = f"product {pid!r} is not in the build (no readable product file)"
            if why:
                refused.setdefault((r, why), []).append(sample_id)
            else:
                out.append(pid)
        return _dedup(out)

    for u in utts:
        if u.speaker != "system" or not u.images or not u.false_images:
            continue
        sample_id = f"{dialog_id}:{u.index}"
        pos = kept(u.images, sample_id)
        neg = [p for p in kept(u.false_images, sample_id) if p not in set(pos)]
        if not pos:
            continue
        index = index or ContextIndex(utts, image_ids)
        context = index.context(u.index, context_turns)
        rows.append(
            {
                "sample_id": sample_id,
                "dialog_id": dialog_id,
                "split": split,
                "turn_index": u.index,
                "context": context,
                "context_start": context[0]["turn_index"] if context else u.index,
                "positive_ids": pos,
                "negative_ids": neg,
                "num_positives": len(pos),
                "num_negatives": len(neg),
            }
        )
    return rows


def _dedup(items) -> list[str]:
    seen: dict[str, None] = {}
    for x in items:
        seen.setdefault(x, None)
    return list(seen)


NAME_KEYS = ("product_name", "name", "title")
CATEGORY_KEYS = ("taxonomy", "type", "category")


def _stringify(value) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return ", ".join(_stringify(v) for v in value if v is not None)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def product_row(path: str, doc: dict, resolver: ImageResolver) -> dict:
    """One product JSON (MMD 2.0 knowledge/products/<stem>.json or a raw catalogue file)."""
    pid = stem(path)
    attrs = {str(k): _stringify(v) for k, v in sorted(doc.items()) if v not in (None, "", [], {})}
    refs = [v for k, v in sorted(doc.items()) if "image" in k.lower() and isinstance(v, str) and v]
    if not refs:
        refs = [f"{pid}.jpg"]
    ids = [i for i, _ in (resolver.resolve(r) for r in refs) if i]
    text_attrs = {k: v for k, v in attrs.items() if "image" not in k.lower() and "url" not in k.lower()}
    return {
        "product_id": pid,
        "split": SPLIT_SHARED,
        "name": next((attrs[k] for k in NAME_KEYS if k in attrs), None),
        "category": next((attrs[k] for k in CATEGORY_KEYS if k in attrs), None),
        "attributes": list(attrs.items()),
        "description": "; ".join(f"{k}: {v}" for k, v in text_attrs.items()),
        "image_refs": refs,
        "image_ids": ids,
        "source": path,
    }
