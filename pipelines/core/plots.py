"""Small PNG charts for the dataset card, drawn with Pillow.

Why not matplotlib: importing it and laying out a figure costs seconds, paid by every build for
three simple charts. A histogram and a horizontal bar chart with a title, axis labels and tick
values are a few dozen lines here, and the output is deterministic (same data, same bytes).
"""

from __future__ import annotations

import io as _io

WIDTH, HEIGHT = 560, 320
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 16, 34, 44
BG, FG, GRID = (255, 255, 255), (40, 40, 40), (225, 225, 225)


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one bitmap size
        return ImageFont.load_default()


def _png(img) -> bytes:
    buf = _io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _nice(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.1f}"


def histogram_png(values: list[float], title: str, xlabel: str, ylabel: str, bins: int = 40) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (WIDTH, HEIGHT), BG)
    d = ImageDraw.Draw(img)
    small, big = _font(11), _font(14)
    d.text((MARGIN_L, 8), title, fill=FG, font=big)
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi == lo:
        hi = lo + 1
    if all(float(v).is_integer() for v in values[:1000]) and hi - lo + 1 <= bins:
        bins = int(hi - lo + 1)  # one bar per integer value
        hi = lo + bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / (hi - lo) * bins))] += 1
    top = max(counts) or 1
    x0, y0, x1, y1 = MARGIN_L, MARGIN_T, WIDTH - MARGIN_R, HEIGHT - MARGIN_B
    for k in range(5):  # horizontal grid and y ticks
        y = y1 - (y1 - y0) * k / 4
        d.line([(x0, y), (x1, y)], fill=GRID)
        d.text((x0 - 6, y), _nice(top * k / 4), fill=FG, font=small, anchor="rm")
    bw = (x1 - x0) / bins
    for i, c in enumerate(counts):
        if c:
            d.rectangle([x0 + i * bw + 1, y1 - (y1 - y0) * c / top, x0 + (i + 1) * bw - 1, y1], fill=(76, 114, 176))
    d.line([(x0, y1), (x1, y1)], fill=FG)
    d.line([(x0, y0), (x0, y1)], fill=FG)
    for frac in (0, 0.5, 1):
        d.text((x0 + (x1 - x0) * frac, y1 + 4), _nice(lo + (hi - lo) * frac), fill=FG, font=small, anchor="ma")
    d.text(((x0 + x1) / 2, HEIGHT - 6), xlabel, fill=FG, font=small, anchor="md")
    d.text((6, y0 - 16), ylabel, fill=FG, font=small)
    return _png(img)


def bars_png(pairs: list[tuple[str, int]], title: str, xlabel: str) -> bytes:
    """Horizontal bars, largest first (labels left of the bars)."""
    from PIL import Image, ImageDraw

    small, big = _font(11), _font(14)
    row = 18
    label_w = min(260, max((int(small.getlength(k)) for k, _ in pairs), default=40) + 10)
    height = MARGIN_T + row * len(pairs) + MARGIN_B
    img = Image.new("RGB", (WIDTH, height), BG)
    d = ImageDraw.Draw(img)
    d.text((8, 8), title, fill=FG, font=big)
    x0, x1 = label_w, WIDTH - MARGIN_R - 50
    top = max((v for _, v in pairs), default=1) or 1
    for i, (k, v) in enumerate(pairs):
        y = MARGIN_T + i * row
        d.text(
            (x0 - 6, y + row / 2),
            k if small.getlength(k) < label_w - 10 else k[: max(4, int(len(k) * (label_w - 10) / small.getlength(k))) - 1] + "…",
            fill=FG,
            font=small,
            anchor="rm",
        )
        d.rectangle([x0, y + 3, x0 + (x1 - x0) * v / top, y + row - 3], fill=(196, 78, 82))
        d.text((x0 + (x1 - x0) * v / top + 4, y + row / 2), f"{v:,}", fill=FG, font=small, anchor="lm")
    d.text(((x0 + x1) / 2, height - 8), xlabel, fill=FG, font=small, anchor="md")
    return _png(img)
