"""Scoring every turn's full candidate list and the P/R/NDCG@{5,10,20} report.

Products are encoded once per evaluation (their base vectors do not depend on the dialog); per
turn only the context, the student state and the DSI interaction with each candidate run.
`evaluate_run` reads one run folder (or a folder of `seed-*` runs), writes `metrics.json`
(per seed, mean and std over seeds, the exact random-ranking expectation for the same
candidate lists) and returns it.
"""

from __future__ import annotations

import json
import os
import time

from modeling.core.runs import mean_std, seed_folders
from modeling.metrics.ranking import EVAL_MODES, METRIC_NAMES, LarchAccumulator, MetricAccumulator
from modeling.train.device import autocast, pick_device, to_device  # noqa: F401 (re-exported)


def evaluate_model(model, stream, device, precision: str = "auto", chunk: int = 4096, mode: str = "mmdial") -> dict:
    """mode: `mmdial` (ties against the positives, every turn weighs the same) or `larch`
    (LARCH's truncation, tie order and per-batch averaging; modeling/metrics/ranking.py)."""
    import torch

    if mode not in EVAL_MODES:
        raise ValueError(f"eval mode {mode!r}: one of {', '.join(EVAL_MODES)}")

    model.eval()
    n_products = model.bank.product_tokens.shape[0]
    t0 = time.perf_counter()
    with torch.no_grad(), autocast(device, precision):
        parts = [model.encode_products(torch.arange(s, min(s + chunk, n_products), device=device)) for s in range(0, n_products, chunk)]
    cache = {k: torch.cat([p[k] for p in parts]) for k in parts[0]} if parts else {}
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    t1 = time.perf_counter()
    acc = LarchAccumulator() if mode == "larch" else MetricAccumulator()
    candidates = 0
    with torch.no_grad(), autocast(device, precision):
        for batch in stream:
            batch = to_device(batch, device)
            scores = model.score(batch, cache)
            acc.add(scores.float(), batch["cand_pos"], batch["cand_valid"])
            candidates += int(batch["cand_valid"].sum())
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    t2 = time.perf_counter()
    return {
        "metrics": acc.result(),
        "random": acc.random_result(),
        "turns": acc.turns,
        "candidates": candidates,
        "skipped_turns_no_positive": stream.stats.skipped_no_positive,
        "missing_candidates": stream.stats.missing_candidates,
        "product_encode_s": round(t1 - t0, 4),
        "score_s": round(t2 - t1, 4),
        "turns_per_s": acc.turns / max(t2 - t1, 1e-9),
    }


def pick_test_split(root: str, wanted: str) -> str:
    """`auto`: the build's `test` split, else the first of SIMMC's devtest/teststd that has samples."""
    if wanted and wanted != "auto":
        return wanted
    from pipelines.core.manifest import read_manifest

    try:
        splits = read_manifest(root)["tables"].get("rec_samples", {})
    except (FileNotFoundError, OSError, ValueError):
        return "test"
    for name in ("test", "devtest", "teststd"):
        if splits.get(name, {}).get("rows"):
            return name
    return "test"


def evaluate_run(
    run: str,
    split: str | None = None,
    data: str | None = None,
    device: str = "auto",
    kind: str | None = None,
    max_turns: int | None = None,
    eval_mode: str = "mmdial",
    metrics_name: str = "metrics.json",
) -> dict:
    """Evaluate every seed of a run; writes RUN/`metrics_name` (another name keeps, e.g., a test on
    a second build beside the run's own test)."""
    import torch

    from modeling.config import load_config
    from modeling.runtime import Runtime
    from modeling.train import checkpoint

    runs = seed_folders(run)
    per_seed = {}
    details = {}
    for folder in runs:
        cfg = load_config(os.path.join(folder, "config.yaml"))
        with open(os.path.join(folder, "run.json"), encoding="utf-8") as fh:
            info = json.load(fh)
        if kind and info["model"] != kind:
            raise ValueError(f"{folder}: a {info['model']} run, not {kind}")
        dev = pick_device(device if device != "auto" else cfg["device"])
        root = data or cfg.get("test_data") or cfg["data"]
        rt = Runtime.load(cfg, root, str(dev), fallback_out=folder, slot_keys=info["slot_keys"])
        model = rt.build_model(info["model"]).to(dev)
        ck = checkpoint.chosen(folder)
        checkpoint.load(ck, model, None, dev)
        split = split or pick_test_split(root, cfg.get("test_split", "auto"))
        limit = cfg["loader"]["max_eval_turns"] if max_turns is None else max_turns
        gold = info["model"] != "semantic" and rt.feeds_states(info["model"])  # section 5.3: baselines read the gold state at test time too
        states = rt.attach_states(model, split) if gold else None
        out = evaluate_model(model, rt.eval_stream(split, limit, states), dev, cfg["precision"], mode=eval_mode)
        out["checkpoint"] = os.path.relpath(ck, run)
        per_seed[str(info["seed"])] = out["metrics"]
        details[str(info["seed"])] = out
        del model
        if str(dev).startswith("cuda"):
            torch.cuda.empty_cache()
    names = list(METRIC_NAMES)
    mean, std = {}, {}
    for name in names:
        mean[name], std[name] = mean_std([m[name] for m in per_seed.values()])
    first = next(iter(details.values()))
    result = {
        "model": info["model"],
        "split": split,
        "eval_mode": eval_mode,
        "data": os.path.abspath(data or cfg.get("test_data") or cfg["data"]),
        "seeds": per_seed,
        "mean": mean,
        "std": std,
        "random": first["random"],
        "turns": first["turns"],
        "details": details,
        "definitions": "LARCH definitions: see modeling/metrics/ranking.py"
        + (
            "; LARCH's truncation (12 positives, 1,000 negatives), numpy tie order, per-batch averaging"
            if eval_mode == "larch"
            else "; ties count against the positives"
        ),
    }
    path = os.path.join(run, metrics_name)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)
    return result


def render_table(result: dict, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    mode = result.get("eval_mode", "mmdial")
    t = Table(title=f"{result['model']} on {result['split']} ({result['turns']} turns, {len(result['seeds'])} seed(s), {mode} evaluation)")
    t.add_column("metric")
    t.add_column("mean ± std", justify="right")
    t.add_column("random", justify="right")
    for name in METRIC_NAMES:
        t.add_row(name, f"{100 * result['mean'][name]:.2f} ± {100 * result['std'][name]:.2f}", f"{100 * result['random'][name]:.2f}")
    console.print(t)
