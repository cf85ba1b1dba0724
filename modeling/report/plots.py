"""`mmdial report`: PNG plots of evaluated runs, grouped by their config's `experiment.group`.

- `ratio`   : NDCG@5 and R@5 (mean ± std over seeds) against `loader.state_ratio` (paper Figure 4 / Table 6)
- `alpha`   : the same against `semantic.alpha` (Table 5)
- `ablation`: bars per `experiment.label` (full, w/o MSE, w/o co-sim, w/o JS, w/o DS; Figure 7 / Table 8)
- anything else (`main`, baselines): bars per label.
Also writes `summary.json` and `summary.md` (every run's mean ± std).
"""

from __future__ import annotations

import json
import os

PLOT_METRICS = ("NDCG@5", "R@5")


def _run_info(run: str) -> dict:
    from modeling.config import load_config
    from modeling.train.evaluate import seed_runs

    with open(os.path.join(run, "metrics.json"), encoding="utf-8") as fh:
        metrics = json.load(fh)
    cfg = load_config(os.path.join(seed_runs(run)[0], "config.yaml"))
    exp = cfg.get("experiment") or {}
    return {
        "run": run,
        "model": metrics["model"],
        "group": exp.get("group") or "main",
        "label": exp.get("label") or f"{metrics['model']}:{os.path.basename(os.path.normpath(run))}",
        "state_ratio": cfg["loader"]["state_ratio"],
        "alpha": cfg["semantic"]["alpha"],
        "mean": metrics["mean"],
        "std": metrics["std"],
        "seeds": len(metrics["seeds"]),
    }


def make_report(runs: list[str], out: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    infos = [_run_info(r) for r in runs]
    os.makedirs(out, exist_ok=True)
    written = []
    groups: dict[str, list[dict]] = {}
    for info in infos:
        groups.setdefault(info["group"], []).append(info)
    for group, items in sorted(groups.items()):
        fig, axes = plt.subplots(1, len(PLOT_METRICS), figsize=(5 * len(PLOT_METRICS), 3.6))
        for ax, metric in zip(axes, PLOT_METRICS, strict=False):
            if group in ("ratio", "alpha"):
                key = "state_ratio" if group == "ratio" else "alpha"
                items = sorted(items, key=lambda i: i[key])
                xs = [100 * i[key] if group == "ratio" else i[key] for i in items]
                ax.errorbar(
                    xs, [100 * i["mean"][metric] for i in items], yerr=[100 * i["std"][metric] for i in items], marker="o", capsize=3
                )
                ax.set_xlabel("labelled dialog states (%)" if group == "ratio" else "alpha")
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
    return written + [summary, md]
