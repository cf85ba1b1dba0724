"""The paper's own rows beside SeMANTIC's reports (Tables 5-8, Figure 4's points): for each
group of runs (`experiment.group`), the matching table of `modeling/papers/semantic.yaml`, our runs
as mean ± std over seeds (in percent) and the gap to the paper row each run reproduces.

Group -> paper table, and which paper row a run is compared with:

| group | table | row matched by |
|---|---|---|
| `ratio` (Figure 4, Table 6) | `table6` | `loader.state_ratio` (`N% labeled ds`); the paper's Table 6 figures are MMD-v3's though captioned SIMMC (its 100% row is Table 1's MMD v3/v3 row), so a SIMMC run's gap is to MMD-v3's figures |
| `alpha` (Table 5) | `table5` | `semantic.alpha` (`alpha=A`); the paper labels its columns R@5/10/20 but its alpha=0.5 row is Table 1's NDCG@5/10/20: compared as labelled |
| `ablation` (Table 8) | `table8-mmd` or `table8-simmc` by the build's data set | the run's label (`w/o co_sim`, `w/o MSE`, `w/o JS`, `SeMANTIC`) |
| `dp_size` (Table 7) | `table7` | SeMANTIC runs at `loader.dp_ratio` 0.2 and 1.0 (`SeMANTIC (D_F 5%, D_P 20% / 100%)`; the paper's D_F is 5% of MMD-v2) |

Table 1 (`main`) is the baselines' report's.
"""

from __future__ import annotations

GROUP_TABLE = {"ratio": "table6", "alpha": "table5", "ablation": "table8-mmd", "dp_size": "table7"}


def _dataset(info: dict) -> str:
    import os

    from modeling.config import load_config
    from modeling.core.runs import seed_folders
    from pipelines.core.manifest import NotABuild, read_manifest

    try:
        cfg = load_config(os.path.join(seed_folders(info["run"])[0], "config.yaml"))
        return str(read_manifest(cfg["data"]).get("dataset") or "")
    except (NotABuild, FileNotFoundError, KeyError, TypeError):
        return ""


def _match(group: str, info: dict, rows) -> str | None:
    if group == "ratio":
        name = f"{round(100 * info['state_ratio'])}% labeled ds"
    elif group == "alpha":
        name = f"alpha={info['alpha']:g}"
    elif group == "dp_size":
        pct = round(100 * info["dp_ratio"])
        name = f"SeMANTIC (D_F 5%, D_P {pct}%)" if info["model"] == "semantic" else None
    else:
        name = info["label"]
    return name if name in rows else None


def references(group: str, items: list[dict]) -> str:
    """The paper comparison for one group's runs ("" for a group without a paper table here)."""
    from modeling import papers

    table_id = GROUP_TABLE.get(group)
    if not table_id or not items:
        return ""
    if group == "ablation" and _dataset(items[0]) == "simmc":
        table_id = "table8-simmc"
    ref = papers.table("semantic", table_id)
    ours, match = {}, {}
    for i in items:
        name = i["label"] if i["label"] not in ours else f"{i['label']} ({i['model']})"
        ours[name] = {m: (100 * i["mean"][m], 100 * i["std"][m]) for m in ref.metrics if m in i["mean"]}
        target = _match(group, i, ref.rows)
        if target:
            match[name] = target
    return papers.comparison_markdown(ref, ours, match=match)


def paper_points(group: str, metric: str) -> tuple[str, list[tuple[float, float, float]]]:
    """The paper's (x, mean, std) points of `metric` for a plotted group, x in the plot's units
    (labelled-state %, alpha), and the legend label; ("", []) when the paper gives none. Figure 4's
    points are Table 6's figures (the paper prints Figure 4 as a plot only)."""
    import re

    from modeling import papers

    if group not in ("ratio", "alpha"):
        return "", []
    ref = papers.table("semantic", GROUP_TABLE[group])
    if metric not in ref.metrics:
        return "", []
    points = []
    for name in ref.rows:
        m = re.match(r"(\d+)% labeled ds$", name) if group == "ratio" else re.match(r"alpha=([\d.]+)$", name)
        fig = ref.row(name)[metric]
        if m and fig is not None:
            points.append((float(m.group(1)), fig.mean, fig.std or 0.0))
    return f"paper ({ref.source.split('(')[0].strip()})", sorted(points)
