"""Fail closed: images the stage cannot vouch for are held back, with the reason.

An image is quarantined when its bytes are missing, do not decode, are too large, or when OCR
raises or runs past the time limit. A quarantined image never reaches the `images` output (not
even unmasked bytes: the quarantine table holds no bytes), and it becomes a candidate for the
manual check, whose decision (`mmdial mask-manual`) can release it from its original `uri`.
"""

from __future__ import annotations

from schemas.core import SPLIT_SHARED
from schemas.privacy import QUARANTINE_CODES


class Quarantined(Exception):
    def __init__(self, code: str, reason: str):
        if code not in QUARANTINE_CODES:
            raise ValueError(f"unknown quarantine code {code!r}")
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def quarantine_row(row: dict, code: str, reason: str, audit_json: str | None, image_id: str) -> dict:
    return {
        **_dataset(row),
        "image_id": image_id,
        "split": SPLIT_SHARED,
        "source_key": row.get("source_key") or "",
        "uri": row.get("uri"),
        "reason_code": code,
        "reason": reason[:1000],
        "audit": audit_json,
    }


def candidate_row(row: dict, image_id: str, reason: str, status: str, lines: int | None) -> dict:
    return {
        **_dataset(row),
        "image_id": image_id,
        "split": SPLIT_SHARED,
        "source_key": row.get("source_key") or "",
        "uri": row.get("uri"),
        "reason": reason,
        "privacy_status": status,
        "num_text_lines": lines,
    }


def _dataset(row: dict) -> dict:
    # left out when unknown, so ShardContext.emit fills in the build's data set
    return {"dataset": row["dataset"]} if row.get("dataset") else {}
