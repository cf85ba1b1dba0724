"""Apply the manual privacy check's decisions (docs/exchange-formats.md `privacy_manual.jsonl`) to a masked build.

One line per checked image: `{"image_id", "status": "clean"|"masked", "boxes": [{"x","y","w","h","label"}]}`
(pixel coordinates on the unmasked image, which are also those of the auto-masked image: masking
never moves pixels). Several lines for one image: the highest `version` wins, then the last line.

- `masked`: the boxes are filled solid on the published (auto-masked) bytes -> `manual_masked`.
- `clean`: nothing to add -> `clean` (an auto-masked image stays `masked`).
- A quarantined image with a decision is released from its original `uri` when the bytes there
  still hash to its `image_id` and decode; otherwise it stays quarantined, with the reason.
- The decision is appended to the image's audit record (`manual`: boxes, annotator, time, version).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pipelines.privacy import audit as au
from pipelines.privacy import metadata
from pipelines.privacy.codec import decode, encode
from pipelines.privacy.masker import fill_boxes

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MANUAL_STATUSES = ("clean", "masked")


@dataclass(frozen=True)
class ManualDecision:
    image_id: str
    status: str
    boxes: tuple[tuple[int, int, int, int, str], ...]
    version: int
    meta: dict  # annotator, created_at, lead_time_s (as given)

    def audit(self) -> dict:
        return {
            "status": self.status,
            "boxes": [{"x": x, "y": y, "w": w, "h": h, "label": lab} for x, y, w, h, lab in self.boxes],
            "version": self.version,
            **self.meta,
        }


def _int(v, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
        raise ValueError(f"box {name} must be an integer, got {v!r}")
    return int(v)


def parse_line(raw: bytes | str) -> ManualDecision:
    """Validate one JSONL line; raises ValueError with the reason (the build dead-letters it)."""
    obj = json.loads(raw)
    if not isinstance(obj, dict):
        raise ValueError(f"wrong type: a line must be a JSON object, got {type(obj).__name__}")
    image_id = obj.get("image_id")
    if not isinstance(image_id, str) or not SHA256_RE.match(image_id):
        raise ValueError(f"image_id must be a sha256 hex digest, got {image_id!r}")
    status = obj.get("status")
    if status not in MANUAL_STATUSES:
        raise ValueError(f"status must be one of {MANUAL_STATUSES}, got {status!r}")
    boxes_in = obj.get("boxes") or []
    if not isinstance(boxes_in, list):
        raise ValueError("boxes must be a list")
    boxes = []
    for b in boxes_in:
        if not isinstance(b, dict):
            raise ValueError(f"a box must be an object, got {b!r}")
        x, y, w, h = (_int(b.get(k), k) for k in ("x", "y", "w", "h"))
        if x < 0 or y < 0 or w <= 0 or h <= 0:
            raise ValueError(f"box {b!r}: x, y must be >= 0 and w, h > 0")
        boxes.append((x, y, w, h, str(b.get("label", ""))))
    if status == "masked" and not boxes:
        raise ValueError("status masked needs at least one box")
    if status == "clean" and boxes:
        raise ValueError("status clean must not carry boxes")
    version = obj.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"version must be an integer, got {version!r}")
    meta = {k: obj[k] for k in ("annotator", "created_at", "lead_time_s") if k in obj}
    return ManualDecision(image_id, status, tuple(boxes), version, meta)


def latest(decisions: list[ManualDecision]) -> dict[str, ManualDecision]:
    """image_id -> the decision that counts (highest version; the later line on a tie)."""
    out: dict[str, ManualDecision] = {}
    for d in decisions:
        prev = out.get(d.image_id)
        if prev is None or d.version >= prev.version:
            out[d.image_id] = d
    return out


def load(path: str) -> dict[str, ManualDecision]:
    """Valid decisions of a manual JSONL (invalid lines are skipped here; the build dead-letters them)."""
    from pipelines.core import io

    good = []
    for _, line in io.iter_lines(io.read_bytes(path)):
        if not line.strip():
            continue
        try:
            good.append(parse_line(line))
        except ValueError:
            continue
    return latest(good)


def apply(row: dict, decision: ManualDecision, fill_color=(0, 0, 0), jpeg_quality: int = 92, max_pixels: int = 40_000_000) -> dict:
    """A new `images` row with the decision applied (to `row['data']`, the published bytes)."""
    rec = au.loads(row.get("privacy_audit")) or {}
    status_in = row.get("privacy_status") or "unchecked"
    data = row.get("data")
    if data is None:
        raise ValueError("the images row holds no bytes to mask")
    if decision.status == "clean":
        status = "clean" if status_in in ("unchecked", "clean") else status_in
        out, fmt, removed = metadata.scrub(data, jpeg_quality, max_pixels)
        if fmt:
            row = {**row, "format": fmt}
        if removed:
            rec["metadata"] = {
                "removed": sorted(set((rec.get("metadata") or {}).get("removed", [])) | set(removed)),
                "method": "scrubbed",
                "published": [],
            }
    else:
        dec = decode(data, max_pixels)
        h, w = dec.bgr.shape[:2]
        for x, y, bw, bh, _ in decision.boxes:
            if x >= w or y >= h:
                raise ValueError(f"box ({x}, {y}, {bw}, {bh}) lies outside the {w}x{h} image")
        masked = fill_boxes(dec.bgr, [b[:4] for b in decision.boxes], list(fill_color))
        out, fmt = encode(masked, dec.format, jpeg_quality)
        row = {**row, "format": fmt, "width": w, "height": h}
        status = "manual_masked"
    from pipelines.privacy.stage import sha256_hex

    rec["manual"] = decision.audit()
    rec["status"] = status
    rec["output_sha256"] = sha256_hex(out)
    return {**row, "data": out, "privacy_status": status, "privacy_audit": au.dumps(rec)}
