"""Device placement shared by training and evaluation: which device, autocast, moving batches.

Kept apart from `loop` and `evaluate` so that neither imports the other (training calls the
evaluator after each epoch; the evaluator needs only these helpers)."""

from __future__ import annotations

import contextlib
import os


def pick_device(name: str | None):
    import torch

    if name in ("auto", None):
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device=cuda but no GPU is visible")
    if name == "cuda" and "LOCAL_RANK" in os.environ:
        name = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    return torch.device(name)


def autocast(device, precision: str):
    """bf16 autocast on GPU (precision auto or bf16), nothing on CPU."""
    import torch

    if str(device).startswith("cuda") and precision in ("auto", "bf16"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def to_device(batch: dict, device) -> dict:
    import torch

    return {k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}


def optimizer_step(net, batch: dict, optimizer, params, *, device, precision: str, lr: float | list[float], grad_clip: float | None):
    """One optimisation step every trainer shares: set the learning rate (one, or one per parameter
    group), move the batch, forward under autocast, backward, clip, step. Returns (the batch on the
    device, loss, loss parts)."""
    import torch

    lrs = lr if isinstance(lr, list) else [lr] * len(optimizer.param_groups)
    for g, value in zip(optimizer.param_groups, lrs, strict=True):
        g["lr"] = value
    batch = to_device(batch, device)
    with autocast(device, precision):
        loss, parts = net(batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return batch, loss, parts
