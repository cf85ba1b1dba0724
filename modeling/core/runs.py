"""Run folders, read and written the same way for every model.

`output_dir/seed-<s>/` per seed; a seed folder is marked by its `run.json` (written when training
starts, after `config.yaml`). `seed_folders(run)` accepts either a seed folder or the output
folder, in seed order. `mean_std` is how every report aggregates seeds (sample std, ddof 1; 0 for
one seed); `write_json` replaces a file atomically."""

from __future__ import annotations

import glob
import json
import math
import os

RUN_FILE = "run.json"
CONFIG_FILE = "config.yaml"


def _seed_of(path: str) -> int:
    tail = path.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def is_seed_folder(path: str) -> bool:
    return os.path.exists(os.path.join(path, RUN_FILE))


def seed_folders(run: str) -> list[str]:
    """The trained seed folders of `run` (itself, when it is one), in seed order."""
    if is_seed_folder(run):
        return [run]
    found = sorted((f for f in glob.glob(os.path.join(run, "seed-*")) if is_seed_folder(f)), key=_seed_of)
    if not found:
        raise FileNotFoundError(f"{run}: no trained run ({RUN_FILE} or seed-*/{RUN_FILE})")
    return found


def read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_json(path: str, doc: dict) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True, ensure_ascii=False)
    os.replace(tmp, path)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0 for a single value)."""
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, sd


def mean_std_dicts(dicts: list[dict]) -> dict:
    """Per key present in every dict: {"mean", "std"} (see `mean_std`)."""
    keys = [k for k in dicts[0] if all(k in d for d in dicts)]
    return {k: dict(zip(("mean", "std"), mean_std([float(d[k]) for d in dicts]), strict=True)) for k in keys}


def summarise_seeds(run: str, folders: list[str], per_seed: list[dict], split: str, carry: tuple[str, ...]) -> dict:
    """The run-level result of per-seed results (each with `seed`, `metrics` and `trivial`): the
    `carry` fields of the first seed, every metric's mean and std, the per-seed metrics; written to
    `run/metrics.json` when `run` holds seed folders."""
    first = per_seed[0]
    summary = {
        **{k: first[k] for k in carry},
        "split": split,
        "seeds": [r["seed"] for r in per_seed],
        "metrics": mean_std_dicts([r["metrics"] for r in per_seed]),
        "trivial": mean_std_dicts([r["trivial"] for r in per_seed]),
        "per_seed": {str(r["seed"]): r["metrics"] for r in per_seed},
    }
    if len(folders) > 1 or folders[0] != run:
        write_json(os.path.join(run, "metrics.json"), summary)
    return summary
