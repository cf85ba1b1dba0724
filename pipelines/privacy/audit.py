"""The audit record stored with every published image (`images.privacy_audit`) and quarantine row.

It says what produced the bytes: the input's sha256, the engine with its version and model
checksums, the policy in force (name, thresholds, masking settings, the full config's sha256 and
the category override used), and every mask (box, polygon, entity types, recogniser names, line
index and character span, line confidence, how the geometry was obtained). With the original and
this record an auditor can re-run the same engine and policy and compare. It never holds the
recognised text itself: the audit must not leak what the mask hides.
"""

from __future__ import annotations

import json

AUDIT_VERSION = 1


def build(
    *,
    input_sha256: str,
    output_sha256: str | None,
    engine: dict | None,
    policy_sha256: str,
    effective: dict | None,
    lines: int | None,
    masks: list[dict],
    fast_path: str | None,
    status: str,
    extra: dict | None = None,
) -> dict:
    entities: dict[str, int] = {}
    for m in masks:
        for e in m.get("entities", []):
            entities[e] = entities.get(e, 0) + 1
    rec = {
        "audit_version": AUDIT_VERSION,
        "status": status,
        "input_sha256": input_sha256,
        "output_sha256": output_sha256,
        "engine": engine,
        "policy_sha256": policy_sha256,
        "policy": effective,
        "text_lines": lines,
        "masks": masks,
        "entity_counts": dict(sorted(entities.items())),
        "fast_path": fast_path,
        "manual": None,
    }
    if extra:
        rec.update(extra)
    return rec


def dumps(rec: dict) -> str:
    return json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> dict | None:
    return json.loads(text) if text else None
