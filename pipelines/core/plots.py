"""Small PNG charts for the dataset card, drawn with Pillow.

Why not matplotlib: importing it and laying out a figure costs seconds, paid by every build for
three simple charts. A histogram and a horizontal bar chart with a title, axis labels and tick
values are a few dozen lines here, and the output is deterministic (same data, same bytes).
"""

from __future__ import annotations

import io as _io

WIDTH, HEIGHT = 900, 420
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 84, 24, 64, 56
LABEL_MAX_FRACTION = 0.45  # bar labels may take this much of the width before they are shortened
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


def nice_ticks(top: float, most: int = 6) -> list[float]:
    """Ticks from 0 at a step of 1, 2 or 5 times a power of ten, the last at or above `top`
    (so a count axis reads 0 / 250 / 500 / ..., never 0 / 300 / 600 / 899 / 1,199)."""
    import math

    top = max(float(top), 1.0)
    raw = top / max(most - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if step < 1:
        step = 1.0
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def shorten(text: str, width: float, measure) -> str:
    """`text` cut in the middle (start and end kept, they tell labels apart) to fit `width` pixels."""
    if measure(text) <= width:
        return text
    keep = len(text)
    while keep > 4:
        keep -= 1
        head, tail = text[: (keep + 1) // 2], text[len(text) - keep // 2 :]
        if measure(head + "…" + tail) <= width:
            return head + "…" + tail
    return text[:3] + "…"


def histogram_png(values: list[float], title: str, xlabel: str, ylabel: str, bins: int = 40) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (WIDTH, HEIGHT), BG)
    d = ImageDraw.Draw(img)
    small, big = _font(14), _font(18)
    d.text((MARGIN_L, 10), title, fill=FG, font=big)
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi == lo:
        hi = lo + 1
    if all(float(v).is_integer() for v in values[:1000]) and hi - lo + 1 <= bins:
        bins = int(hi - lo + 1)  # one bar per integer value
        hi = lo + bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / (hi - lo) * bins))] += 1
    ticks = nice_ticks(max(counts) or 1)
    top = ticks[-1]
    x0, y0, x1, y1 = MARGIN_L, MARGIN_T, WIDTH - MARGIN_R, HEIGHT - MARGIN_B
    for t in ticks:  # horizontal grid and y ticks
        y = y1 - (y1 - y0) * t / top
        d.line([(x0, y), (x1, y)], fill=GRID)
        d.text((x0 - 6, y), _nice(t), fill=FG, font=small, anchor="rm")
    bw = (x1 - x0) / bins
    for i, c in enumerate(counts):
        if c:
            d.rectangle([x0 + i * bw + 1, y1 - (y1 - y0) * c / top, x0 + (i + 1) * bw - 1, y1], fill=(76, 114, 176))
    d.line([(x0, y1), (x1, y1)], fill=FG)
    d.line([(x0, y0), (x0, y1)], fill=FG)
    integer_bars = all(float(v).is_integer() for v in values[:1000]) and hi - lo == bins
    for frac in (0, 0.25, 0.5, 0.75, 1):
        if integer_bars:  # label a bar's centre with its integer value
            i = min(bins - 1, int(round(frac * (bins - 1))))
            d.text((x0 + (i + 0.5) * bw, y1 + 4), _nice(lo + i), fill=FG, font=small, anchor="ma")
        else:
            d.text((x0 + (x1 - x0) * frac, y1 + 4), _nice(lo + (hi - lo) * frac), fill=FG, font=small, anchor="ma")
    d.text(((x0 + x1) / 2, HEIGHT - 8), xlabel, fill=FG, font=small, anchor="md")
    d.text((8, y0 - 32), ylabel, fill=FG, font=small)
    return _png(img)


def bars_png(pairs: list[tuple[str, int]], title: str, xlabel: str) -> bytes:
    """Horizontal bars, largest first (labels left of the bars)."""
    from PIL import Image, ImageDraw

    small, big = _font(14), _font(18)
    row = 24
    label_w = min(int(WIDTH * LABEL_MAX_FRACTION), max((int(small.getlength(k)) for k, _ in pairs), default=40) + 16)
    height = MARGIN_T + row * len(pairs) + MARGIN_B
    img = Image.new("RGB", (WIDTH, height), BG)
    d = ImageDraw.Draw(img)
    d.text((10, 10), title, fill=FG, font=big)
    x0, x1 = label_w, WIDTH - MARGIN_R - 70
    top = max((v for _, v in pairs), default=1) or 1
    for i, (k, v) in enumerate(pairs):
        y = MARGIN_T + i * row
        d.text((x0 - 8, y + row / 2), shorten(k, label_w - 16, small.getlength), fill=FG, font=small, anchor="rm")
        d.rectangle([x0, y + 4, x0 + (x1 - x0) * v / top, y + row - 4], fill=(196, 78, 82))
        d.text((x0 + (x1 - x0) * v / top + 6, y + row / 2), f"{v:,}", fill=FG, font=small, anchor="lm")
    d.text(((x0 + x1) / 2, height - 10), xlabel, fill=FG, font=small, anchor="md")
    return _png(img)
