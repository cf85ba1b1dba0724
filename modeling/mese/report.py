"""`mmdial report mese RUN...`: the paper's tables from evaluated runs (each RUN a folder with
the `metrics.json` that `mmdial evaluate mese` wrote), mean ± std over seeds.

Rows are named by each run's `variant` (MESE, MESE w/o content, MESE-LG); Table 2 adds the
popularity and random references measured on the same instances. R@k, accuracies and ReR are in
percent (as the paper prints them), recall accuracy and clustering accuracy as fractions.
"""

from __future__ import annotations

import json
import os

PCT = {"R@1", "R@10", "R@50", "ReR", "ranking_acc@1", "ranking_acc@10", "ranking_acc@50", "final_acc@1", "final_acc@10", "final_acc@50"}


def load(run: str) -> dict:
    path = os.path.join(run, "metrics.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{run}: no metrics.json (run `mmdial evaluate mese --run {run}` first)")
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if doc.get("model") != "mese":
        raise ValueError(f"{run}: not a MESE evaluation")
    return doc


def cell(stat: dict | None, key: str) -> str:
    if not stat:
        return "-"
    scale = 100.0 if key in PCT else 1.0
    digits = 1 if key in PCT or key == "PPL" else 3
    m, s = stat["mean"] * scale, stat["std"] * scale
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def _table(title: str, head: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def tables(results: list[dict]) -> str:
    by = {r["variant"]: r for r in results}
    main = by.get("MESE") or results[0]
    out = []
    cols = ["R@1", "R@10", "R@50", "ReR", "PPL", "Dist-2", "Dist-3", "Dist-4", "BLEU-2", "BLEU-4"]
    rows = [[name] + [cell(r["metrics"].get(c), c) for c in cols] for name, r in by.items()]
    for ref in ("popularity", "random"):
        if ref in main.get("baselines", {}):
            rows.append([ref] + [cell(main["baselines"][ref].get(c), c) for c in cols])
    seeds = ", ".join(f"{n}: {len(r['seeds'])} seed(s)" for n, r in by.items())
    out.append(_table(f"Table 2: recommendation and language metrics ({seeds})", ["Model"] + cols, rows))
    m = main["metrics"]
    rows = [
        [
            f"@{k}",
            cell(m.get(f"ranking_acc@{k}"), f"ranking_acc@{k}"),
            cell(m.get("recall_acc"), "recall_acc"),
            cell(m.get(f"final_acc@{k}"), f"final_acc@{k}"),
        ]
        for k in (1, 10, 50)
    ]
    out.append(
        _table(
            f"Table 3: recall, ranking and final accuracy of {main['variant']}", ["top k", "Ranking Acc", "Recall Acc", "Final Acc"], rows
        )
    )
    if "MESE w/o content" in by:
        rows = [[n] + [cell(by[n]["metrics"].get(c), c) for c in ("R@1", "R@10", "R@50")] for n in ("MESE w/o content", "MESE") if n in by]
        out.append(_table("Table 5: MESE and MESE w/o content", ["Model", "R@1", "R@10", "R@50"], rows))
    ks = ["K=3", "K=4", "K=5"]
    rows = []
    if main.get("clustering", {}).get("raw"):
        rows.append(["MESE raw"] + [cell(main["clustering"]["raw"].get(k), k) for k in ks])
    for n in ("MESE w/o content", "MESE"):
        if n in by and by[n].get("clustering", {}).get("trained"):
            rows.append([n] + [cell(by[n]["clustering"]["trained"].get(k), k) for k in ks])
    if main.get("clustering", {}).get("raw_select"):
        rows.append(["MESE raw (selection encoder)"] + [cell(main["clustering"]["raw_select"].get(k), k) for k in ks])
        for n in ("MESE w/o content", "MESE"):
            if n in by and by[n].get("clustering", {}).get("trained_select"):
                rows.append([f"{n} (selection encoder)"] + [cell(by[n]["clustering"]["trained_select"].get(k), k) for k in ks])
    if rows:
        out.append(_table("Table 6: item-encoder clustering accuracy (K-means on single-genre items)", ["Model"] + ks, rows))
    if "MESE-LG" in by:
        cols8 = ["Dist-2", "Dist-4", "BLEU-2", "BLEU-4"]
        rows = [[n] + [cell(by[n]["metrics"].get(c), c) for c in cols8] for n in ("MESE-LG", "MESE") if n in by]
        out.append(_table("Table 8: MESE-LG (language loss only) and MESE", ["Model"] + cols8, rows))
    return "\n".join(out)


def write_tables(runs: list[str], out: str) -> str:
    if not runs:
        raise ValueError("give evaluated MESE run folders: mmdial report mese RUN...")
    text = tables([load(r) for r in runs])
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "mese_tables.md")
    with open(f"{path}.tmp", "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(f"{path}.tmp", path)
    return text
