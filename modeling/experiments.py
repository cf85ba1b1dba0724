"""The paper's tables as one command each: `mmdial experiment NAME data=BUILD [key=value ...]`.

Each experiment is a list of (model, config) runs: every run trains (one folder per seed, resuming
when re-run), is evaluated on the build's test split (and, for Table 1 on MMD, on `--test-data`,
the MMD-v2 build, into `metrics-test_data.json`), and `mmdial report` writes the paper-shaped
table (`tables.md`) and plots under OUT/report. Overrides apply to every run (e.g. `seeds=[0]`,
`train.epochs=5`, or the `smoke` architecture's keys for a quick try).

An experiment with `paper` also writes OUT/report/paper.md and prints it: for each test set, the
paper's rows (modeling/papers/semantic.yaml), ours (mean ± std over seeds, in percent) and the gap
to the paper's row of the same model (`PAPER_ROW`: our label -> the paper's row name).
"""

from __future__ import annotations

import os

from modeling.baselines import TABLE1

TABLE1_BASELINES = tuple(TABLE1)  # modeling/baselines/<kind>.py
LABELS = {"clip": "CLIP-style", "text": "text-only"}  # kinds that train with SeMANTIC's own configs
PAPER_ROW = {"SeMANTIC": "SeMANTIC", "CLIP-style": "CLIP", **{name: name for name in TABLE1.values()}}  # our label -> paper row

EXPERIMENTS: dict[str, dict] = {
    "table1-mmd": {
        "what": "Table 1, MMD block: the five baselines, SeMANTIC, CLIP-style and text-only trained on MMD-v3 "
        "(D_P = D_F); tested on MMD-v3 and, with --test-data, on MMD-v2",
        "runs": [("semantic", "mmd_v3"), ("clip", "mmd_v3"), ("text", "mmd_v3")] + [(k, k) for k in TABLE1_BASELINES],
        "paper": {"own": "table1-mmd-v3-v3", "test_data": "table1-mmd-v3-v2"},
    },
    "table1-simmc": {
        "what": "Table 1, SIMMC block (D_P = D_F); the paper has no UMD row here",
        "runs": [("semantic", "simmc"), ("clip", "simmc"), ("text", "simmc")] + [(k, f"{k}_simmc") for k in TABLE1_BASELINES],
        "paper": {"own": "table1-simmc"},
    },
    "figure4": {
        "what": "Figure 4 / Figure 8: MMD-v3 with 0-100% of the dialog states (D_F), the rest as D_P",
        "runs": [("semantic", f"mmd_v3_ratio_{r}") for r in (0, 1, 5, 10, 20, 100)],
    },
    "table6": {
        "what": "Table 6: SIMMC with 0-100% of the dialog states (D_F), the rest as D_P",
        "runs": [("semantic", f"simmc_ratio_{r}") for r in (0, 1, 5, 10, 20, 100)],
    },
    "table7": {
        "what": "Table 7 / Figure 5: MMD-v2 build, D_F = its MMD-v3 dialogs, D_P = 0-100% of the others (loader.dp_ratio)",
        "runs": [("semantic", f"mmd_v2_dp_{r}") for r in (0, 10, 20, 50, 100)] + [("clip", "mmd_v2_dp_100"), ("text", "mmd_v2_dp_100")],
    },
    "table8-mmd": {
        "what": "Table 8 / Figure 7, MMD block: without JS, co-sim, MSE or DSI",
        "runs": [("semantic", f"mmd_v3_{n}") for n in ("full", "no_js", "no_cosim", "no_mse", "no_dsi")],
    },
    "table8-simmc": {
        "what": "Table 8, SIMMC block",
        "runs": [("semantic", f"simmc_{n}") for n in ("full", "no_js", "no_cosim", "no_mse", "no_dsi")],
    },
    "table5": {
        "what": "Table 5: alpha in the joint objective",
        "runs": [("semantic", f"mmd_v3_alpha_{a}") for a in ("01", "03", "05", "07", "09")],
    },
}


from modeling.jddc.experiments import EXPERIMENTS as _JDDC  # noqa: E402
from modeling.mese.experiments import EXPERIMENTS as _MESE  # noqa: E402

EXPERIMENTS.update(_MESE)
EXPERIMENTS.update(_JDDC)
LABELS = {"clip": "CLIP-style", "text": "text-only"}


def planned_runs(name: str, smoke: bool = False) -> list[tuple[str, str, list[str], str]]:
    """(kind, config, overrides, folder name) of each run of experiment `name`. A run is
    (kind, config) or (kind, config, {"smoke": config, "overrides": [...], "name": folder});
    `smoke` trains each run's CPU-sized config instead (refused when a run names none). A run's
    folder is its `name`, else its config, suffixed with the kind when an earlier run took it."""
    from modeling.config import ConfigError

    if name not in EXPERIMENTS:
        raise ConfigError(f"experiment {name!r}: one of {', '.join(EXPERIMENTS)}")
    out, taken = [], set()
    for run in EXPERIMENTS[name]["runs"]:
        kind, config, opts = run[0], run[1], (run[2] if len(run) > 2 else {})
        if smoke:
            if not opts.get("smoke"):
                raise ConfigError(f"experiment {name!r} has no smoke configs; give the smoke sizes as overrides instead")
            config = opts["smoke"]
        folder = opts.get("name") or (config if config not in taken else f"{config}_{kind}")
        taken.add(folder)
        out.append((kind, config, list(opts.get("overrides", [])), folder))
    return out


def _check_dataset(name: str, cfg: dict) -> None:
    want = EXPERIMENTS[name].get("dataset")
    if want:
        from modeling.config import ConfigError
        from modeling.mese.sources import dataset_of

        got = dataset_of(cfg["data"]) if cfg.get("data") else None
        if got != want:
            raise ConfigError(f"experiment {name!r} needs a {want} build (data=DIR); got {got or 'none'}")


def run_experiment(name: str, overrides: list[str], out: str, test_data: str | None = None, log=print, smoke: bool = False) -> list[str]:
    """Train, evaluate and report every run of experiment `name`; returns the report's files."""
    from modeling import recipes
    from modeling.config import load_config

    plan = planned_runs(name, smoke)
    runs, extra = [], []
    for kind, config, own, folder_name in plan:
        recipe = recipes.get(kind)
        recipes.check_config(recipe, config)
        folder = os.path.join(out, folder_name)
        cfg = load_config(config, [*own, *overrides, f"output_dir={folder}"])
        _check_dataset(name, cfg)
        if kind in LABELS:
            cfg["experiment"] = {**cfg["experiment"], "label": LABELS[kind]}
        log(f"{name}: {kind} with {config} -> {folder}")
        recipe.train(cfg, log=log)
        recipe.evaluate(recipes.EvalRequest(folder, log=log, protocol=EXPERIMENTS[name].get("protocol", "mmdial")))
        runs.append(folder)
        if test_data:
            from modeling.train.evaluate import evaluate_run

            evaluate_run(folder, data=test_data, kind=kind, metrics_name="metrics-test_data.json")
            extra.append(os.path.join(folder, "metrics-test_data.json"))
    lines = recipes.report(runs + extra, os.path.join(out, "report"))[0].splitlines()
    paper = EXPERIMENTS[name].get("paper")
    if paper:
        text = paper_comparison(paper, runs, extra)
        path = os.path.join(out, "report", "paper.md")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        lines += [path, "", text]
    return lines


def paper_comparison(paper: dict[str, str], runs: list[str], extra: list[str]) -> str:
    """paper.md: per test set (`own`: each run's metrics.json; `test_data`: metrics-test_data.json),
    the paper's table with ours beside it (mean ± std over seeds, %) and the gap per matched row."""
    import json

    from modeling import papers
    from modeling.config import load_config
    from modeling.core.runs import seed_folders

    blocks = []
    for which, files in (("own", [os.path.join(r, "metrics.json") for r in runs]), ("test_data", extra)):
        if which not in paper or not files:
            continue
        ref = papers.table("semantic", paper[which])
        ours = {}
        for path in files:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
            cfg = load_config(os.path.join(seed_folders(os.path.dirname(path))[0], "config.yaml"))
            label = (cfg.get("experiment") or {}).get("label") or doc["model"]
            ours[label] = {m: (100 * doc["mean"][m], 100 * doc["std"][m]) for m in ref.metrics}
        ours["random ranking (exact expectation)"] = {m: (100 * doc["random"][m], None) for m in ref.metrics}
        match = {label: PAPER_ROW[label] for label in ours if label in PAPER_ROW}
        test = f"{os.path.basename(os.path.normpath(doc['data']))}/{doc['split']}"
        blocks.append(f"### {ref.source}; ours tested on {test}\n\n" + papers.comparison_markdown(ref, ours, match=match))
    return "\n\n".join(blocks)
