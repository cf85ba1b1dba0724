"""The figures the three papers report, kept as data (`semantic.yaml`, `mese.yaml`, `jddc.yaml`),
so that every paper-shaped report prints the paper's own row beside ours and the gap.

Each file lists tables by id (`table1-mmd-v3-v3`, `table2`, ...), each with its `source` (the
paper's table and block, so a reader can check it), its `metrics` (the paper's column names) and
its rows: one entry per column, `"mean±std"` where the paper gives a spread, a number where it
gives one figure, null where it reports none.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAPERS = ("semantic", "mese", "jddc")


@dataclass(frozen=True)
class Figure:
    mean: float
    std: float | None = None

    def __str__(self) -> str:
        digits = _digits(self.mean)
        return f"{self.mean:.{digits}f}" + (f" ± {self.std:.{digits}f}" if self.std is not None else "")


@dataclass(frozen=True)
class PaperTable:
    paper: str
    table: str
    source: str
    metrics: tuple[str, ...]
    rows: dict[str, tuple[Figure | None, ...]]

    def row(self, name: str) -> dict[str, Figure | None]:
        return dict(zip(self.metrics, self.rows[name], strict=True))


def parse_figure(value) -> Figure | None:
    """`"63.87±0.39"` -> Figure(63.87, 0.39); `25.6` -> Figure(25.6); None -> None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return Figure(float(value))
    text = str(value).replace(" ", "")
    if "±" in text:
        mean, std = text.split("±", 1)
        return Figure(float(mean), float(std))
    return Figure(float(text))


@functools.cache
def _load(paper: str) -> dict:
    import yaml

    if paper not in PAPERS:
        raise KeyError(f"unknown paper {paper!r}; known: {', '.join(PAPERS)}")
    return yaml.safe_load((HERE / f"{paper}.yaml").read_text(encoding="utf-8"))


def tables(paper: str) -> list[str]:
    return list(_load(paper)["tables"])


def table(paper: str, table_id: str) -> PaperTable:
    data = _load(paper)
    if table_id not in data["tables"]:
        raise KeyError(f"{paper} has no table {table_id!r}; known: {', '.join(data['tables'])}")
    t = data["tables"][table_id]
    metrics = tuple(t.get("metrics") or data["metrics"])
    rows = {str(name): tuple(parse_figure(v) for v in values) for name, values in t["rows"].items()}
    for name, values in rows.items():
        if len(values) != len(metrics):
            raise ValueError(f"{paper} {table_id} row {name!r}: {len(values)} figures for {len(metrics)} metrics")
    return PaperTable(data["paper"], table_id, str(t["source"]).strip(), metrics, rows)


def comparison_markdown(
    ref: PaperTable,
    ours: dict[str, dict[str, tuple[float, float]]],
    metrics: list[str] | None = None,
    match: dict[str, str] | None = None,
) -> str:
    """A Markdown table: each paper row (labelled "paper"), then our rows (mean ± std over seeds,
    in the paper's units) and, for each of ours that `match` maps to a paper row, the gap
    (ours - paper). `ours`: row name -> metric -> (mean, std), already in the paper's units."""
    metrics = list(metrics or ref.metrics)
    match = match or {}
    lines = [f"Reference: {ref.source}.", "", "| | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for name in ref.rows:
        figs = ref.row(name)
        lines.append(f"| paper: {name} | " + " | ".join(str(figs.get(m)) if figs.get(m) else "-" for m in metrics) + " |")
    for name, values in ours.items():
        cells = []
        for m in metrics:
            v = values.get(m)
            cells.append("-" if v is None or v[0] is None or math.isnan(v[0]) else str(Figure(v[0], v[1])))
        lines.append(f"| ours: {name} | " + " | ".join(cells) + " |")
        target = match.get(name)
        if target in ref.rows:
            figs = ref.row(target)
            gaps = []
            for m in metrics:
                v, p = values.get(m), figs.get(m)
                gaps.append("-" if v is None or p is None or v[0] is None or math.isnan(v[0]) else f"{v[0] - p.mean:+.{_digits(p.mean)}f}")
            lines.append(f"| gap: {name} - paper {target} | " + " | ".join(gaps) + " |")
    return "\n".join(lines)


def _digits(x: float) -> int:
    return 3 if abs(x) < 1.5 else (1 if abs(x) >= 100 else 2)
