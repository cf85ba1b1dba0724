"""`mmdial report`: PNG plots of evaluated runs, grouped by their config's `experiment.group`.

- `ratio`   : NDCG@5 and R@5 (mean ± std over seeds) against `loader.state_ratio` (paper Figure 4 / Table 6),
  with the paper's points (Table 6's figures) beside ours; `alpha` likewise with Table 5's R@5
- `alpha`   : the same against `semantic.alpha` (Table 5)
- `ablation`: bars per `experiment.label` (full, w/o MSE, w/o co-sim, w/o JS, w/o DS; Figure 7 / Table 8)
- `dp_size` : the same against `loader.dp_ratio` (Table 7 / Figure 5)
- anything else (`main`, baselines): bars per label.
Also writes `summary.json`, `summary.md` (every run's mean ± std) and `tables.md`: per group and
test set, a table shaped like the paper's (rows = runs, columns P/R/NDCG@5/10/20, mean ± std
over seeds, in %). A RUN argument is a run folder (its metrics.json) or a metrics JSON file
(e.g. `metrics-test_data.json`, the same run tested on another build).
"""

from __future__ import annotations

import json
import os

PLOT_METRICS = ("NDCG@5", "R@5")
TABLE_METRICS = tuple(f"{m}@{k}" for k in (5, 10, 20) for m in ("P", "R", "NDCG"))  # the paper's column order
PAPER_TABLES = {
    "main": "Table 1 (overall results)",
    "ratio": "Table 6 / Figure 4 (labelled dialog states)",
    "dp_size": "Table 7 / Figure 5 (size of D_P)",
    "ablation": "Table 8 / Figure 7 (ablations)",
    "alpha": "Table 5 (alpha)",
}
ORDER_KEY = {"ratio": "state_ratio", "dp_size": "dp_ratio", "alpha": "alpha"}


def _run_info(run: str) -> dict:
    from modeling.config import load_config
    from modeling.core.runs import seed_folders

    secondary = run.endswith(".json")
    metrics_path = run if secondary else os.path.join(run, "metrics.json")
    run = os.path.dirname(metrics_path) if run.endswith(".json") else run
    with open(metrics_path, encoding="utf-8") as fh:
        metrics = json.load(fh)
    cfg = load_config(os.path.join(seed_folders(run)[0], "config.yaml"))
    exp = cfg.get("experiment") or {}
    return {
        "run": run,
        "model": metrics["model"],
        "group": exp.get("group") or "main",
        "label": exp.get("label") or f"{metrics['model']}:{os.path.basename(os.path.normpath(run))}",
        "state_ratio": cfg["loader"]["state_ratio"],
        "dp_ratio": cfg["loader"].get("dp_ratio", 1.0),
        "secondary": secondary,
        "test": f"{os.path.basename(os.path.normpath(metrics.get('data', '')))}/{metrics.get('split', '')}"
        + ("" if metrics.get("eval_mode", "mmdial") == "mmdial" else f" ({metrics['eval_mode']} evaluation)"),
        "alpha": cfg["semantic"]["alpha"],
        "mean": metrics["mean"],
        "std": metrics["std"],
        "seeds": len(metrics["seeds"]),
    }


def make_report(runs: list[str], out: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from modeling.report.paper_rows import paper_points

    infos = [_run_info(r) for r in runs]
    os.makedirs(out, exist_ok=True)
    written = []
    groups: dict[str, list[dict]] = {}
    for info in infos:
        if not info["secondary"]:  # plots show each run once (its own test); tables show every test set
            groups.setdefault(info["group"], []).append(info)
    for group, items in sorted(groups.items()):
        fig, axes = plt.subplots(1, len(PLOT_METRICS), figsize=(5 * len(PLOT_METRICS), 3.6))
        for ax, metric in zip(axes, PLOT_METRICS, strict=False):
            if group in ORDER_KEY:
                key = ORDER_KEY[group]
                items = sorted(items, key=lambda i: i[key])
                xs = [i[key] if group == "alpha" else 100 * i[key] for i in items]
                ax.errorbar(
                    xs,
                    [100 * i["mean"][metric] for i in items],
                    yerr=[100 * i["std"][metric] for i in items],
                    marker="o",
                    capsize=3,
                    label="ours (mean ± std over seeds)",
                )
                label, points = paper_points(group, metric)  # the paper's own points (Figure 4 = Table 6's figures)
                if points:
                    px, py, pe = zip(*points, strict=True)
                    ax.errorbar(px, py, yerr=pe, marker="s", linestyle="--", capsize=3, label=label)
                    ax.legend(fontsize=7)
                ax.set_xlabel({"ratio": "labelled dialog states (%)", "dp_size": "D_P dialogs used (%)", "alpha": "alpha"}[group])
            else:
                labels = [i["label"] for i in items]
                ax.bar(range(len(items)), [100 * i["mean"][metric] for i in items], yerr=[100 * i["std"][metric] for i in items], capsize=3)
                ax.set_xticks(range(len(items)), labels, rotation=30, ha="right")
            ax.set_ylabel(f"{metric} (%)")
            ax.set_title(f"{group}: {metric}")
            ax.grid(alpha=0.3)
        fig.tight_layout()
        path = os.path.join(out, f"{group}.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    summary = os.path.join(out, "summary.json")
    with open(summary, "w", encoding="utf-8") as fh:
        json.dump(infos, fh, indent=2, sort_keys=True)
    lines = ["| group | label | model | seeds | " + " | ".join(PLOT_METRICS) + " |", "|---|---|---|---|" + "---|" * len(PLOT_METRICS)]
    for i in infos:
        cells = " | ".join(f"{100 * i['mean'][m]:.2f} ± {100 * i['std'][m]:.2f}" for m in PLOT_METRICS)
        lines.append(f"| {i['group']} | {i['label']} | {i['model']} | {i['seeds']} | {cells} |")
    md = os.path.join(out, "summary.md")
    with open(md, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    tables = os.path.join(out, "tables.md")
    with open(tables, "w", encoding="utf-8") as fh:
        fh.write(paper_tables(infos))
    return written + [summary, md, tables]


def paper_tables(infos: list[dict]) -> str:
    """Markdown tables shaped like the paper's: one per (group, test set), each followed by the
    paper's own rows and the gap where the paper has that table (Tables 5-8)."""
    from modeling.report.paper_rows import references

    blocks: dict[tuple[str, str], list[dict]] = {}
    for info in infos:
        blocks.setdefault((info["group"], info["test"]), []).append(info)
    out = []
    for (group, test), items in blocks.items():
        if group in ORDER_KEY:
            items = sorted(items, key=lambda i: (i["model"] != "semantic", i[ORDER_KEY[group]]))
        seeds = sorted({i["seeds"] for i in items})
        out.append(f"### {PAPER_TABLES.get(group, group)}: tested on {test} (mean ± std over {'/'.join(map(str, seeds))} seeds, %)\n")
        out.append("| | " + " | ".join(TABLE_METRICS) + " |")
        out.append("|---|" + "---:|" * len(TABLE_METRICS))
        for i in items:
            out.append(f"| {i['label']} | " + " | ".join(f"{100 * i['mean'][m]:.2f}±{100 * i['std'][m]:.2f}" for m in TABLE_METRICS) + " |")
        out.append("")
        ref = references(group, items)  # the paper's rows, ours, the gap (modeling/report/paper_rows.py)
        if ref:
            out += [ref, ""]
    return "\n".join(out) + "\n"
