"""Metrics of masking against planted ground truth (used by benchmarks/bench_privacy.py and tests).

Definitions (every figure in benchmarks/results/privacy.json is one of these):
- coverage of a planted box: |box ∩ union of masks| / |box|, in pixels;
- recall by box: planted PII boxes with coverage >= `COVER` / planted PII boxes;
- precision by box: masks whose area is at least `HIT` inside some planted PII box (union) / masks;
- residue: planted PII strings still readable when the masked image is OCR'd again (normalised:
  lower case, no whitespace or dashes; substring of the normalised text of the whole image);
  `partial residue`: those whose longest substring still readable covers >= half their length (and
  >= 4 characters);
- benign readable: planted benign strings readable (same test) in the masked image, divided by
  those readable in the original (both by the same engine).
"""

from __future__ import annotations

import re

import numpy as np

COVER = 0.75
HIT = 0.3


def norm(text: str) -> str:
    return re.sub(r"[\s\-—_·•]+", "", text).lower().replace("：", ":").replace("，", ",")


def readable(target: str, texts: list[str]) -> bool:
    t = norm(target)
    return bool(t) and t in norm("".join(texts))


def longest_readable(target: str, texts: list[str]) -> int:
    """Length of the longest substring of `target` (normalised) found in the OCR text."""
    t, hay = norm(target), norm("".join(texts))
    best = 0
    for i in range(len(t)):
        lo = best + 1
        while i + lo <= len(t) and t[i : i + lo] in hay:
            best = lo
            lo += 1
    return best


def _raster(polys, w, h) -> np.ndarray:
    import cv2

    m = np.zeros((h, w), np.uint8)
    for p in polys:
        cv2.fillPoly(m, [np.round(np.asarray(p, np.float64)).astype(np.int32).reshape(-1, 1, 2)], 1)
    return m


def box_metrics(planted: list, mask_polys: list, w: int, h: int) -> dict:
    """Per image: coverage of each planted PII box, and masks that hit PII."""
    pii = [p for p in planted if p.pii]
    masks = _raster(mask_polys, w, h)
    cover = []
    for p in pii:
        g = _raster([p.polygon], w, h)
        area = int(g.sum())
        cover.append(float((g & masks).sum()) / area if area else 1.0)
    truth = _raster([p.polygon for p in pii], w, h)
    hits = 0
    for poly in mask_polys:
        m = _raster([poly], w, h)
        area = int(m.sum())
        if area and (m & truth).sum() / area >= HIT:
            hits += 1
    return {
        "coverage": cover,
        "pii_boxes": len(pii),
        "detected": sum(c >= COVER for c in cover),
        "masks": len(mask_polys),
        "mask_hits": hits,
    }


def residue(planted: list, masked_texts: list[str]) -> dict:
    pii = [p for p in planted if p.pii]
    full = [p.text for p in pii if readable(p.text, masked_texts)]
    partial = [p.text for p in pii if longest_readable(p.text, masked_texts) >= max(4, len(norm(p.text)) / 2)]
    return {"readable": full, "partial": partial}


def benign(planted: list, original_texts: list[str], masked_texts: list[str]) -> dict:
    items = [p for p in planted if not p.pii]
    before = [p.text for p in items if readable(p.text, original_texts)]
    after = [t for t in before if readable(t, masked_texts)]
    return {"planted": len(items), "readable_before": len(before), "readable_after": len(after)}
