"""Checkpoints as safetensors: `model.safetensors` (weights, shared tensors stored once),
`optimizer.safetensors` (Adam moments, flattened as `state.<param>.<name>`) and
`trainer.json` (epoch, step, position in the epoch, param groups, best score) and, for a
checkpoint inside an epoch, `random_states.json` (Python, numpy, torch and CUDA generators). A checkpoint folder is written under a
temporary name and renamed into place, so a crash never leaves a half checkpoint."""

from __future__ import annotations

import json
import os
import shutil

import torch

MODEL_FILE = "model.safetensors"
OPTIM_FILE = "optimizer.safetensors"
STATE_FILE = "trainer.json"
RANDOM_FILE = "random_states.json"


def save(
    folder: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None, state: dict, random_states: dict | None = None
) -> None:
    from safetensors.torch import save_file, save_model

    tmp = f"{folder}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    save_model(model, os.path.join(tmp, MODEL_FILE))
    doc = dict(state)
    if optimizer is not None:
        sd = optimizer.state_dict()
        tensors = {}
        for pid, entry in sd["state"].items():
            for name, value in entry.items():
                t = value if torch.is_tensor(value) else torch.tensor(value)
                tensors[f"state.{pid}.{name}"] = t.detach().cpu().contiguous()
        save_file(tensors, os.path.join(tmp, OPTIM_FILE))
        doc["param_groups"] = sd["param_groups"]
    with open(os.path.join(tmp, STATE_FILE), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True)
    if random_states is not None:
        with open(os.path.join(tmp, RANDOM_FILE), "w", encoding="utf-8") as fh:
            json.dump(_states_to_json(random_states), fh)
    old = f"{folder}.old"
    if os.path.exists(folder):
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def load(folder: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None, device: str = "cpu") -> dict:
    from safetensors.torch import load_file, load_model

    missing, unexpected = load_model(model, os.path.join(folder, MODEL_FILE), strict=False, device=str(device))
    if unexpected or [m for m in missing if "bank." not in m]:
        raise ValueError(f"{folder}: checkpoint does not fit the model (missing {missing[:5]}, unexpected {unexpected[:5]})")
    with open(os.path.join(folder, STATE_FILE), encoding="utf-8") as fh:
        state = json.load(fh)
    if optimizer is not None and os.path.exists(os.path.join(folder, OPTIM_FILE)):
        tensors = load_file(os.path.join(folder, OPTIM_FILE), device=str(device))
        per: dict[int, dict] = {}
        for key, value in tensors.items():
            _, pid, name = key.split(".", 2)
            per.setdefault(int(pid), {})[name] = value
        optimizer.load_state_dict({"state": per, "param_groups": state["param_groups"]})
    return state


def chosen(run_folder: str) -> str:
    """The checkpoint a seed folder is evaluated with: `best` (validation) when there, else `last`."""
    best = os.path.join(run_folder, "checkpoints", "best")
    return best if exists(best) else os.path.join(run_folder, "checkpoints", "last")


def exists(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, STATE_FILE))


def load_random_states(folder: str) -> dict:
    with open(os.path.join(folder, RANDOM_FILE), encoding="utf-8") as fh:
        doc = json.load(fh)
    import numpy as np

    version, internal, gauss = doc["python"]
    name, keys, pos, has_gauss, cached = doc["numpy"]
    out = {
        "python": (version, tuple(internal), gauss),
        "numpy": (name, np.asarray(keys, np.uint32), pos, has_gauss, cached),
        "torch": torch.tensor(doc["torch"], dtype=torch.uint8),
    }
    if "cuda" in doc:
        out["cuda"] = [torch.tensor(s, dtype=torch.uint8) for s in doc["cuda"]]
    return out


def _states_to_json(states: dict) -> dict:
    version, internal, gauss = states["python"]
    name, keys, pos, has_gauss, cached = states["numpy"]
    doc = {
        "python": [version, list(internal), gauss],
        "numpy": [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)],
        "torch": states["torch"].tolist(),
    }
    if "cuda" in states:
        doc["cuda"] = [s.tolist() for s in states["cuda"]]
    return doc
