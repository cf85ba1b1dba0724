"""`mmdial report mese RUN...`: the paper's tables from evaluated runs (each RUN a folder with
the `metrics.json` that `mmdial evaluate mese` wrote), mean ± std over seeds.

Rows are named by each run's `variant` (MESE, MESE w/o content, MESE w/o item, MESE-LG); every
table starts with the paper's own rows (`modeling/papers/mese.yaml`, source table named), then ours
(mean ± std over seeds) and the gap to the paper row of the same name. Table 2 adds the
popularity and random references measured on the same instances; Table 7 compares with the block
of the runs' data set (ReDial or INSPIRED). R@k, accuracies and ReR are in
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


# the paper's column names (modeling/papers/mese.yaml) -> ours in metrics.json
PAPER_KEYS = {"Dist2": "Dist-2", "Dist3": "Dist-3", "Dist4": "Dist-4", "Bleu2": "BLEU-2", "Bleu4": "BLEU-4"}


def value(stat: dict | None, key: str) -> tuple[float, float] | None:
    """(mean, std) over seeds in the paper's units (percent for PCT keys), None when not measured."""
    if not stat:
        return None
    scale = 100.0 if key in PCT else 1.0
    return stat["mean"] * scale, stat["std"] * scale


def row(stats: dict, metrics: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    out = {}
    for m in metrics:
        v = value(stats.get(PAPER_KEYS.get(m, m)), PAPER_KEYS.get(m, m))
        if v is not None:
            out[m] = v
    return out


def _section(title: str, table_id: str, ours: dict, match: dict, note: str = "") -> str:
    from modeling import papers

    md = papers.comparison_markdown(papers.table("mese", table_id), ours, match=match)
    return f"### {title}\n\n" + (f"{note}\n\n" if note else "") + md + "\n"


def tables(results: list[dict]) -> str:
    """Tables 2, 3, 5, 6, 7 (the block of the runs' data set) and 8, each with the paper's rows
    (modeling/papers/mese.yaml), ours as mean ± std over seeds and the gap to the matching row."""
    by = {r["variant"]: r for r in results}
    main = by.get("MESE") or results[0]
    dataset = main.get("dataset", "redial")
    seeds = ", ".join(f"{n}: {len(r['seeds'])} seed(s)" for n, r in by.items())
    protocols = sorted({r.get("protocol", "mmdial") for r in results})
    note = f"Ours on {dataset}, {seeds}; language metrics under the {'/'.join(protocols)} protocol"
    note += (
        " (the paper's own definitions: `mmdial evaluate mese --protocol paper`)."
        if protocols == ["paper"]
        else " (mmdial's: ratio Distinct, corpus BLEU and PPL, not the paper's definitions; `--protocol paper` gives those)."
    )
    out = []
    t2 = ("R@1", "R@10", "R@50", "ReR", "PPL", "Dist2", "Dist3", "Dist4", "Bleu2", "Bleu4")
    ours = {n: row(r["metrics"], t2) for n, r in by.items()}
    for ref in ("popularity", "random"):
        if ref in main.get("baselines", {}):
            ours[ref] = row(main["baselines"][ref], t2)
    match = {n: n for n in by if n == "MESE"}
    out.append(_section("Table 2: recommendation and language metrics", "table2", ours, match, note))
    m = main["metrics"]
    ours3 = {
        f"{main['variant']} @{k}": {
            name: v
            for name, v in (
                ("Ranking Acc", value(m.get(f"ranking_acc@{k}"), f"ranking_acc@{k}")),
                ("Recall Acc", value(m.get("recall_acc"), "recall_acc")),
                ("Final Acc", value(m.get(f"final_acc@{k}"), f"final_acc@{k}")),
            )
            if v is not None
        }
        for k in (1, 10, 50)
    }
    out.append(
        _section("Table 3: recall, ranking and final accuracy", "table3", ours3, {f"{main['variant']} @{k}": f"@{k}" for k in (1, 10, 50)})
    )
    rk = ("R@1", "R@10", "R@50")
    if "MESE w/o content" in by:
        names = [n for n in ("MESE w/o content", "MESE") if n in by]
        out.append(
            _section("Table 5: MESE and MESE w/o content", "table5", {n: row(by[n]["metrics"], rk) for n in names}, {n: n for n in names})
        )
    ks = ("K=3", "K=4", "K=5")
    ours6, match6 = {}, {}
    if main.get("clustering", {}).get("raw"):
        ours6["MESE raw"], match6["MESE raw"] = row(main["clustering"]["raw"], ks), "MESE raw"
    for n in ("MESE w/o content", "MESE"):
        if n in by and by[n].get("clustering", {}).get("trained"):
            ours6[n], match6[n] = row(by[n]["clustering"]["trained"], ks), n
    if main.get("clustering", {}).get("raw_select"):
        ours6["MESE raw (selection encoder)"] = row(main["clustering"]["raw_select"], ks)
        for n in ("MESE w/o content", "MESE"):
            if n in by and by[n].get("clustering", {}).get("trained_select"):
                ours6[f"{n} (selection encoder)"] = row(by[n]["clustering"]["trained_select"], ks)
    if ours6:
        out.append(_section("Table 6: item-encoder clustering accuracy (K-means on single-genre items)", "table6", ours6, match6))
    if "MESE w/o item" in by:
        names = [n for n in ("MESE w/o item", "MESE") if n in by]
        block = "table7-inspired" if dataset == "inspired" else "table7-redial"
        out.append(
            _section(
                f"Table 7 ({dataset}): MESE and MESE w/o item", block, {n: row(by[n]["metrics"], rk) for n in names}, {n: n for n in names}
            )
        )
    if "MESE-LG" in by:
        t8 = ("Dist2", "Dist4", "Bleu2", "Bleu4")
        names = [n for n in ("MESE-LG", "MESE") if n in by]
        out.append(
            _section(
                "Table 8: MESE-LG (language loss only) and MESE",
                "table8",
                {n: row(by[n]["metrics"], t8) for n in names},
                {n: n for n in names},
            )
        )
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
