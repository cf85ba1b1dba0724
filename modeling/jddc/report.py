"""Paper-shaped JDDC tables from evaluated runs (`mmdial report jddc RUN...`).

Each evaluated run (`RUN/metrics.json`, or a single seed's) names its table (the task's `table`)
and row (`row`: "Text-only GPT", "Multimodal Retrieval", ...). Runs are grouped by table; each
table lists its rows in the paper's order, then the trivial baseline scored on the same examples
("Most frequent (trivial)"), with every column as mean ± std over seeds, in percent as the paper
prints them; below each, the paper's own rows (modeling/papers/jddc.yaml, source table named),
ours and the gap to the paper row of the same name. A table's columns come from `COLUMNS` (paper name -> metric key); part 2 adds its
tables there.
"""

from __future__ import annotations

import json
import os

from modeling.jddc import parse_tasks

COLUMNS = {
    "Table 5: response generation": (("BLEU", "BLEU-4"), ("RG-L", "ROUGE-L"), ("Dt-1", "Distinct-1"), ("Dt-2", "Distinct-2")),
    "Table 6: rewritable or not": (
        ("F1 score (macro)", "F1"),
        ("F1 rewritable", "F1-rewritable"),
        ("F1 not rewritable", "F1-not-rewritable"),
    ),
    "Table 7: query rewriting": (("BLEU", "BLEU-4"), ("RG-L", "ROUGE-L"), ("Dt-1", "Distinct-1"), ("Dt-2", "Distinct-2")),
}
ROW_ORDER = ("Text-only Retrieval", "Multimodal Retrieval", "Text-only GPT", "Multimodal GPT", "Text-only BERT", "Multimodal TransResNet")
# part 2 (discourse parsing, summarisation): its tables and rows live in parse_tasks; its runs
# name their own baseline row ("baseline": attach to the previous EDU, Lead)
COLUMNS.update(parse_tasks.COLUMNS)
ROW_ORDER += parse_tasks.ROW_ORDER
TRIVIAL = "Most frequent (trivial)"


def load_result(run: str) -> dict:
    path = os.path.join(run, "metrics.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run}: no metrics.json (run `mmdial evaluate <task> --run {run}` first)")
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if "table" not in doc:
        raise ValueError(f"{run}: not a JDDC run")
    if "per_seed" not in doc:  # a single seed's folder
        doc = {**doc, "metrics": {k: {"mean": v, "std": 0.0} for k, v in doc["metrics"].items()}, "seeds": [doc["seed"]]}
        doc["trivial"] = {k: {"mean": v, "std": 0.0} for k, v in doc["trivial"].items()}
    return doc


def _cell(stat: dict | None) -> str:
    if stat is None:
        return "-"
    return f"{100 * stat['mean']:.2f} ± {100 * stat['std']:.2f}"


def tables(results: list[dict]) -> str:
    by_table: dict[str, list[dict]] = {}
    for r in results:
        by_table.setdefault(r["table"], []).append(r)
    parts = []
    for name in sorted(by_table, key=lambda t: (list(COLUMNS).index(t) if t in COLUMNS else 99, t)):
        rows = sorted(by_table[name], key=lambda r: ROW_ORDER.index(r["row"]) if r["row"] in ROW_ORDER else 99)
        cols = COLUMNS.get(name) or tuple((k, k) for k in rows[0]["metrics"])
        lines = [f"{name} (%, mean ± std over seeds)", "", "| Models | " + " | ".join(c for c, _ in cols) + " | seeds | examples |"]
        lines.append("|---" * (len(cols) + 3) + "|")
        for r in rows:
            lines.append(
                f"| {r['row']} | " + " | ".join(_cell(r["metrics"].get(k)) for _, k in cols) + f" | {len(r['seeds'])} | {r['examples']} |"
            )
        seen = set()
        for r in rows:  # each distinct baseline once (part 2's parsers see different EDUs)
            label = r.get("baseline", TRIVIAL)
            if label not in seen:
                seen.add(label)
                cells = " | ".join(_cell(r["trivial"].get(k)) for _, k in cols)
                lines.append(f"| {label} | {cells} | {len(r['seeds'])} | {r['examples']} |")
        ref = paper_reference(name, rows, cols)
        parts.append("\n".join(lines) + (f"\n\n{ref}" if ref else ""))
    return "\n\n".join(parts)


def paper_reference(name: str, rows: list[dict], cols) -> str:
    """The paper's rows of table `name` (modeling/papers/jddc.yaml, by its "Table N"), ours in
    percent beside them and the gap to the paper row of the same name; "" when the paper has none."""
    import re

    from modeling import papers

    m = re.match(r"Table (\d+)", name)
    if not m or f"table{m.group(1)}" not in papers.tables("jddc"):
        return ""
    ref = papers.table("jddc", f"table{m.group(1)}")
    keys = {}
    for metric in ref.metrics:  # the paper's column -> our metric key (by column name, else key)
        hit = [k for c, k in cols if c == metric] or [k for c, k in cols if k == metric]
        if hit:
            keys[metric] = hit[0]
    ours: dict[str, dict] = {}
    for r in rows:
        ours[r["row"]] = {pm: _pct(r["metrics"].get(k)) for pm, k in keys.items() if r["metrics"].get(k)}
        label = r.get("baseline", TRIVIAL)
        if label not in ours:
            ours[label] = {pm: _pct(r["trivial"].get(k)) for pm, k in keys.items() if r["trivial"].get(k)}
    return papers.comparison_markdown(ref, ours, match={n: n for n in ours if n in ref.rows})


def _pct(stat: dict) -> tuple[float, float]:
    return 100 * stat["mean"], 100 * stat["std"]


def write_tables(runs: list[str], out: str | None) -> str:
    if not runs:
        raise ValueError("give evaluated JDDC run folders: mmdial report jddc RUN... [--out DIR]")
    text = tables([load_result(r) for r in runs])
    if out:
        os.makedirs(out, exist_ok=True)
        tmp = os.path.join(out, ".tables.md.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, os.path.join(out, "tables.md"))
    return text


def render_run(result: dict) -> str:
    """One evaluated run as text: each metric's mean ± std, and the trivial baseline's."""
    lines = [f"{result['task']} · {result['row']} · {result['split']} · {result['examples']} examples · seeds {result['seeds']}"]
    for k, v in result["metrics"].items():
        t = result["trivial"].get(k)
        lines.append(f"  {k:<12} {v['mean']:.4f} ± {v['std']:.4f}" + (f"   (trivial {t['mean']:.4f})" if t else ""))
    return "\n".join(lines)
