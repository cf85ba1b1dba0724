"""Label Studio result items: how the editor writes them, and how exporters read them back.

The builders here produce exactly what the Label Studio editor submits for each control, so the
pre-fills we push and the annotations the tests make "as a person would" have the editor's shape.
"""

from __future__ import annotations


def textarea(from_name: str, to_name: str, text: str, rid: str | None = None) -> dict:
    return {
        "id": rid or from_name,
        "from_name": from_name,
        "to_name": to_name,
        "type": "textarea",
        "origin": "manual",
        "value": {"text": [text]},
    }


def choices(from_name: str, to_name: str, values: list[str], rid: str | None = None) -> dict:
    return {
        "id": rid or from_name,
        "from_name": from_name,
        "to_name": to_name,
        "type": "choices",
        "origin": "manual",
        "value": {"choices": list(values)},
    }


def paragraph_label(rid: str, from_name: str, to_name: str, index: int, text: str, label: str) -> dict:
    """A region covering paragraph `index` whole (Paragraphs: start/end are paragraph indices)."""
    return {
        "id": rid,
        "from_name": from_name,
        "to_name": to_name,
        "type": "paragraphlabels",
        "origin": "manual",
        "value": {
            "start": str(index),
            "end": str(index),
            "startOffset": 0,
            "endOffset": len(text),
            "text": text,
            "paragraphlabels": [label],
        },
    }


def relation(from_id: str, to_id: str, label: str) -> dict:
    return {"type": "relation", "from_id": from_id, "to_id": to_id, "direction": "right", "labels": [label]}


def rectangle(
    rid: str, from_name: str, to_name: str, x: float, y: float, w: float, h: float, label: str, original_width: int, original_height: int
) -> dict:
    """A box in percent of the image, as the editor stores it (pixels: see `rect_to_pixels`)."""
    return {
        "id": rid,
        "from_name": from_name,
        "to_name": to_name,
        "type": "rectanglelabels",
        "origin": "manual",
        "original_width": original_width,
        "original_height": original_height,
        "image_rotation": 0,
        "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]},
    }


# -- reading ----------------------------------------------------------------------------------
def items(result: list[dict], from_name: str) -> list[dict]:
    return [r for r in result or [] if r.get("from_name") == from_name]


def text_of(result: list[dict], from_name: str) -> str | None:
    """The text typed in a TextArea (several lines joined by a newline), or None."""
    texts = [t for r in items(result, from_name) for t in (r.get("value") or {}).get("text") or []]
    joined = "\n".join(t.strip() for t in texts if isinstance(t, str) and t.strip())
    return joined or None


def choice_of(result: list[dict], from_name: str) -> list[str]:
    return [c for r in items(result, from_name) for c in (r.get("value") or {}).get("choices") or []]


def rect_to_pixels(value: dict, width: int, height: int) -> dict:
    """Percent box to integer pixels on a `width` x `height` image, clipped to the image."""
    x0 = max(0.0, min(100.0, float(value["x"]))) * width / 100
    y0 = max(0.0, min(100.0, float(value["y"]))) * height / 100
    x1 = max(0.0, min(100.0, float(value["x"]) + float(value["width"]))) * width / 100
    y1 = max(0.0, min(100.0, float(value["y"]) + float(value["height"]))) * height / 100
    x, y = int(round(x0)), int(round(y0))
    return {"x": x, "y": y, "w": max(1, int(round(x1)) - x), "h": max(1, int(round(y1)) - y)}
