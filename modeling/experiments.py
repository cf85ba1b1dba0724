"""The paper's tables as one command each: `mmdial experiment NAME data=BUILD [key=value ...]`.

Each experiment is a list of (model, config) runs: every run trains (one folder per seed, resuming
when re-run), is evaluated on the build's test split (and, for Table 1 on MMD, on `--test-data`,
the MMD-v2 build, into `metrics-test_data.json`), and `mmdial report` writes the paper-shaped
table (`tables.md`) and plots under OUT/report. Overrides apply to every run (e.g. `seeds=[0]`,
`train.epochs=5`, or the `smoke` architecture's keys for a quick try).
"""

from __future__ import annotations

import os

EXPERIMENTS: dict[str, dict] = {
    "table1-mmd": {
        "what": "Table 1, MMD block: SeMANTIC, CLIP-style and text-only trained on MMD-v3 (D_P = D_F); "
        "tested on MMD-v3 and, with --test-data, on MMD-v2",
        "runs": [("semantic", "mmd_v3"), ("clip", "mmd_v3"), ("text", "mmd_v3")],
    },
    "table1-simmc": {
        "what": "Table 1, SIMMC block (D_P = D_F)",
        "runs": [("semantic", "simmc"), ("clip", "simmc"), ("text", "simmc")],
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
    return recipes.report(runs + extra, os.path.join(out, "report"))[0].splitlines()
