"""Checkpoints as safetensors: `model.safetensors` (weights, shared tensors stored once),
`optimizer.safetensors` (Adam moments, flattened as `state.<param>.<name>`) and
`trainer.json` (epoch, step, param groups, best score). A checkpoint folder is written under a
temporary name and renamed into place, so a crash never leaves a half checkpoint."""

from __future__ import annotations

import json
import os
import shutil

import torch

MODEL_FILE = "model.safetensors"
OPTIM_FILE = "optimizer.safetensors"
STATE_FILE = "trainer.json"


def save(folder: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None, state: dict) -> None:
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


def exists(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, STATE_FILE))
