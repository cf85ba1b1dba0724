"""The training loop every JDDC task shares (part 2's tasks plug in the same way).

A task gives a model whose `forward(batch)` returns `(loss, parts)` and a list of batches per
epoch (`batches(epoch)`, the data order seeded by (seed, epoch)). The loop adds what SeMANTIC's
loop has: Adam(W) with linear decay and warm-up, gradient clipping, bf16 autocast on GPU,
DDP under torchrun (each rank takes every world-th batch; rank 0 writes), progress bars,
`metrics.jsonl`, and safetensors checkpoints in `checkpoints/last` after every epoch; a re-run of
the same command resumes after the last finished epoch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from modeling.core.progress import bar as _bar
from modeling.core.seeding import epoch_seed
from modeling.train import checkpoint
from modeling.train.device import optimizer_step
from modeling.train.loop import Distributed, lr_factor


def fit(model, batches: Callable[[int], list[dict]], cfg: dict, folder: str, device, seed: int, name: str, log=print) -> dict:
    import torch

    tc = cfg["train"]
    dist = Distributed(device)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": tc["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}], lr=tc["lr"]
    )
    steps_per_epoch = max(1, len(batches(0)) // dist.world)
    total = tc["max_steps"] or steps_per_epoch * tc["epochs"]
    epochs = min(tc["epochs"], -(-total // steps_per_epoch))
    last = os.path.join(folder, "checkpoints", "last")
    start, step = 0, 0
    if checkpoint.exists(last):
        st = checkpoint.load(last, model, optimizer, device)
        start, step = st["epoch"] + 1, st["step"]
        log(f"resuming {folder} after epoch {st['epoch']} (step {step})")
    net = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)
    metrics_path = os.path.join(folder, "metrics.jsonl")
    loss = torch.zeros(())
    for epoch in range(start, epochs):
        torch.manual_seed(epoch_seed(seed, epoch))
        mine = batches(epoch)[dist.rank :: dist.world][: max(0, min(steps_per_epoch, total - step))]
        if not mine:
            break
        model.train()
        bar = _bar(len(mine), f"{name} seed {seed} epoch {epoch + 1}/{epochs}", tc["progress"] and dist.main)
        t0, seen, logs = time.perf_counter(), 0, []
        for batch in mine:
            factor = lr_factor(step, total, tc["schedule"], tc["warmup_steps"])
            batch, loss, parts = optimizer_step(
                net, batch, optimizer, params, device=device, precision=cfg["precision"], lr=tc["lr"] * factor, grad_clip=tc["grad_clip"]
            )
            step += 1
            seen += len(batch["ids"])
            if bar:
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
            if step % tc["log_every"] == 0:
                logs.append({"step": step, "epoch": epoch, "loss": float(loss.detach()), "lr": tc["lr"] * factor})
        if bar:
            bar.close()
        elapsed = time.perf_counter() - t0
        record = {
            "epoch": epoch,
            "step": step,
            "loss": float(loss.detach()),
            "train_examples_per_s": seen * dist.world / max(elapsed, 1e-9),
        }
        if dist.main:
            with open(metrics_path, "a", encoding="utf-8") as fh:
                for line in logs + [record]:
                    fh.write(json.dumps(line, sort_keys=True) + "\n")
            checkpoint.save(last, model, optimizer, {"epoch": epoch, "step": step, "seed": seed})
            log(
                f"{name} seed {seed} epoch {epoch + 1}/{epochs}: loss {record['loss']:.4f}, {record['train_examples_per_s']:.1f} examples/s"
            )
        dist.barrier()
    return {"steps": step, "epochs": epochs, "steps_per_epoch": steps_per_epoch, "world_size": dist.world}


def shuffled_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Index lists of one epoch: a permutation seeded by (seed, epoch), cut into batches."""
    import numpy as np

    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
