"""Privacy-check flow: images automatic masking left unmasked; box private information or mark clean.

Inputs: the images (a build's `images` table, which holds the bytes) and, optionally, the privacy
stage's candidates (`privacy_candidates` Parquet or JSONL `{"image_id", "source_key", "uri"}`); with
no candidates, every image not yet masked, manually masked or quarantined is a candidate. One task
per distinct image (its sha256 `image_id`). Export: privacy_manual.jsonl of docs/exchange-formats.md, boxes in
integer pixels of the unmasked image; "clean" together with boxes, or neither, is a problem.
"""

from __future__ import annotations

import hashlib
import io

import pyarrow as pa

from annotation import results as R
from annotation.flows.base import ExportOutcome, Flow, attr
from annotation.tasks import BuildResult, TaskSpec, image_index, image_src
from annotation.taxonomy import PRIVACY_LABELS

CLEAN = "clean"
BOXED = "private information boxed"
DONE_STATUSES = ("masked", "manual_masked", "quarantined")


def _size(row: dict) -> tuple[int | None, int | None]:
    if row.get("width") and row.get("height"):
        return int(row["width"]), int(row["height"])
    data = row.get("data")
    if data is None and row.get("uri"):
        try:
            with open(row["uri"], "rb") as fh:
                data = fh.read()
        except OSError:
            return None, None
    if data is None:
        return None, None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # noqa: BLE001 - undecodable bytes: reported by the caller
        return None, None


class PrivacyCheckFlow(Flow):
    name = "privacy_check"
    description = "Manual privacy check of images automatic masking left unmasked"
    export_file = "privacy_manual.jsonl"
    group_unit = "image"
    shows_unchecked_images = True  # its tasks are exactly the images masking left unchecked: for privacy reviewers only

    def params(self, tables: dict[str, pa.Table]) -> dict:
        return {"labels": list(PRIVACY_LABELS)}

    def label_config(self, params: dict) -> str:
        labels = "".join(f"<Label value={attr(x)}/>" for x in params["labels"])
        return (
            "<View>\n"
            '  <Header value="Image $source_key: draw a box over every piece of private information, or mark the image clean"/>\n'
            # labels and verdict above the image: a small image zoomed to the page width pushed them below the fold
            f'  <RectangleLabels name="box" toName="image">{labels}</RectangleLabels>\n'
            '  <Choices name="verdict" toName="image" choice="single" required="true" layout="inline">\n'
            f"    <Choice value={attr(CLEAN)}/>\n"
            f"    <Choice value={attr(BOXED)}/>\n"
            "  </Choices>\n"
            '  <Image name="image" value="$image" zoom="true"/>\n'
            "</View>\n"
        )

    def build(self, tables: dict[str, pa.Table], params: dict, options: dict) -> BuildResult:
        images = image_index(tables.get("images"))
        candidates = options.get("candidates")
        if candidates is None:
            if "privacy_candidates" in tables:
                candidates = tables["privacy_candidates"].to_pylist()
            else:
                candidates = [r for r in images.values() if r.get("privacy_status") not in DONE_STATUSES]
        out = BuildResult()
        seen: set[str] = set()
        for cand in sorted(candidates, key=lambda c: (str(c.get("image_id")), str(c.get("source_key")))):
            out.records_in += 1
            image_id = cand.get("image_id")
            if not image_id:
                out.reject("candidates", str(cand.get("source_key")), "candidate without image_id", cand)
                continue
            if image_id in seen:
                out.reject(
                    "candidates",
                    image_id,
                    "duplicate candidate (one task per image_id)",
                    {k: cand.get(k) for k in ("image_id", "source_key", "uri")},
                )
                continue
            seen.add(image_id)
            row = {**cand, **images.get(image_id, {})}
            src = image_src(row, options.get("image_store"))
            width, height = _size(row)
            if src is None or width is None:
                out.reject(
                    "candidates",
                    image_id,
                    "image bytes not available (not in the images table, uri unreadable or not an image)",
                    {k: cand.get(k) for k in ("image_id", "source_key", "uri")},
                )
                continue
            data = {
                "image": src,
                "image_id": image_id,
                "source_key": row.get("source_key") or "",
                "width": width,
                "height": height,
                "preview": f"{row.get('source_key') or image_id} ({width}x{height}, {row.get('privacy_status') or 'unchecked'})",
            }
            out.tasks.append(
                TaskSpec(
                    self.name,
                    image_id,
                    image_id,
                    {"image_id": image_id, "width": width, "height": height},
                    data,
                    images=((image_id, row.get("privacy_status")),),
                )
            )
        return out

    def export(self, data: dict, result: list[dict], params: dict) -> ExportOutcome:
        image_id = data["image_id"]
        verdict = R.choice_of(result, "verdict")
        boxes = []
        for r in R.items(result, "box"):
            value = r.get("value") or {}
            w = r.get("original_width") or data.get("width")
            h = r.get("original_height") or data.get("height")
            labels = value.get("rectanglelabels") or []
            if not w or not h:
                return ExportOutcome(problems=[(image_id, "box without image size")])
            if len(labels) != 1:
                return ExportOutcome(problems=[(image_id, f"a box needs exactly one label, got {labels}")])
            boxes.append({**R.rect_to_pixels(value, int(w), int(h)), "label": labels[0]})
        boxes.sort(key=lambda b: (b["y"], b["x"], b["h"], b["w"], b["label"]))
        if boxes and CLEAN in verdict:
            return ExportOutcome(problems=[(image_id, "marked clean but has boxes")])
        if boxes:
            return ExportOutcome([{"image_id": image_id, "status": "masked", "boxes": boxes}])
        if verdict == [CLEAN]:
            return ExportOutcome([{"image_id": image_id, "status": "clean", "boxes": []}])
        return ExportOutcome(problems=[(image_id, f"neither boxes nor marked clean (verdict {verdict})")])

    def sort_key(self, line: dict) -> tuple:
        return (line["image_id"],)

    def review_images(self, data: dict, result: list[dict], store=None) -> list[str]:
        """The reviewer sees the boxes drawn on the image (and the image as it came, to check what is under them).

        The drawn image is written to the image store next to the original (never inlined in the task)."""
        src = data.get("image")
        if not isinstance(src, str):
            return []
        raw = store.read(src) if store is not None else None
        if raw is None or not R.items(result, "box"):
            return [src]
        drawn = _draw_boxes(raw, result)
        rel = f"{store.folder}/qc/{hashlib.sha256(drawn).hexdigest()}.png"  # under the storage's folder: served
        return [store.put(rel, drawn), src]


def _draw_boxes(raw: bytes, result: list[dict]) -> bytes:
    """The image with the annotator's boxes drawn on it (red, labelled), as PNG bytes."""
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(raw)) as im:
        im = im.convert("RGB")
        draw = ImageDraw.Draw(im)
        width = max(1, round(min(im.size) / 100))
        for r in R.items(result, "box"):
            value = r.get("value") or {}
            b = R.rect_to_pixels(value, im.width, im.height)
            draw.rectangle([b["x"], b["y"], b["x"] + b["w"] - 1, b["y"] + b["h"] - 1], outline=(255, 0, 0), width=width)
            label = ",".join(value.get("rectanglelabels") or [])
            draw.text((b["x"] + width + 1, max(0, b["y"] - 11)), label, fill=(255, 0, 0))
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    return buf.getvalue()
