"""`mmdial train mese`: one run per seed under `output_dir/seed-<s>/`, with the shared run-folder
layout (config.yaml, run.json, metrics.jsonl, checkpoints/last in safetensors, resume after the
last finished epoch), AdamW with one linear warm-up epoch then linear decay, bf16 autocast on GPU,
DDP under torchrun (each rank trains its share of the samples; rank 0 writes)."""

from __future__ import annotations

import json
import os
import time

from modeling.config import save_config
from modeling.core.progress import bar as _bar
from modeling.core.seeding import epoch_seed, seed_everything, set_threads
from modeling.train import checkpoint
from modeling.train.device import optimizer_step, pick_device
from modeling.train.loop import Distributed, lr_factor


def train(cfg: dict, log=print) -> list[str]:
    out = cfg.get("output_dir")
    if not out:
        raise ValueError("output_dir is not set")
    return [train_one(cfg, int(seed), os.path.join(out, f"seed-{seed}"), log) for seed in cfg["seeds"]]


def train_one(cfg: dict, seed: int, folder: str, log=print) -> str:
    import torch

    from modeling.mese.batch import TrainBatches
    from modeling.mese.setup import Setup

    set_threads(cfg.get("threads"))
    device = pick_device(cfg["device"])
    dist = Distributed(device)
    os.makedirs(folder, exist_ok=True)
    tc = cfg["train"]
    if dist.enabled and not dist.main:
        dist.barrier()  # rank 0 trains and saves the tokenizer first
    setup = Setup.create(cfg, folder)
    if dist.enabled and dist.main:
        dist.barrier()
    train_split = setup.split("train")
    if not train_split.samples:
        raise ValueError(f"{cfg['data']}: the train split has no system turns")
    seed_everything(seed, cfg["deterministic"])  # after the data set-up (tokenizer training)
    model = setup.build_model().to(device)
    batches = TrainBatches(
        train_split, setup.cache(train_split), setup.spec, len(setup.items), tc["batch_size"], tc["negatives"], dist.rank, dist.world
    )
    steps = batches.steps()
    total = steps * tc["epochs"]
    warmup = steps * tc["warmup_epochs"]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tc["lr"], eps=tc["eps"], weight_decay=tc["weight_decay"])
    info = {
        "model": "mese",
        "variant": cfg.get("variant", "MESE"),
        "seed": seed,
        "items": len(setup.items),
        "train_samples": len(train_split.samples),
        "train_rec_samples": len(train_split.rec_samples()),
        "steps_per_epoch": steps,
        "total_steps": total,
        "world_size": dist.world,
        "device": str(device),
        "vocab": len(setup.tok),
        "parameters": sum(p.numel() for p in params),
    }
    last = os.path.join(folder, "checkpoints", "last")
    start_epoch, step = 0, 0
    if checkpoint.exists(last):
        st = checkpoint.load(last, model, optimizer, device)
        start_epoch, step = st["epoch"] + 1, st["step"]
        log(f"resuming {folder} after epoch {st['epoch']} (step {step})")
    if dist.main:
        save_config(cfg, os.path.join(folder, "config.yaml"))
        with open(os.path.join(folder, "run.json"), "w", encoding="utf-8") as fh:
            json.dump(info, fh, indent=2, sort_keys=True)
    net = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)
    metrics_path = os.path.join(folder, "metrics.jsonl")
    for epoch in range(start_epoch, tc["epochs"]):
        torch.manual_seed(epoch_seed(seed, epoch))  # dropout stream per epoch (resume-exact)
        model.train()
        bar = _bar(steps, f"mese seed {seed} epoch {epoch + 1}/{tc['epochs']}", tc["progress"] and dist.main)
        t0, seen, logs, sums, n = time.perf_counter(), 0, [], {}, 0
        for batch in batches.epoch(seed, epoch):
            factor = lr_factor(step, total, "linear", warmup)
            batch, loss, parts = optimizer_step(
                net, batch, optimizer, params, device=device, precision=cfg["precision"], lr=tc["lr"] * factor, grad_clip=tc["grad_clip"]
            )
            step += 1
            n += 1
            seen += batch["input_ids"].shape[0]
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            if bar:
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
            if step % tc["log_every"] == 0:
                logs.append({"step": step, "epoch": epoch, "loss": float(loss.detach()), "lr": tc["lr"] * factor, **parts})
        if bar:
            bar.close()
        elapsed = time.perf_counter() - t0
        record = {
            "epoch": epoch,
            "step": step,
            "epoch_s": elapsed,
            "train_samples_per_s": seen * dist.world / max(elapsed, 1e-9),
            **{f"mean_{k}": v / max(n, 1) for k, v in sums.items()},
        }
        if dist.main:
            with open(metrics_path, "a", encoding="utf-8") as fh:
                for line in logs + [record]:
                    fh.write(json.dumps(line, sort_keys=True) + "\n")
            if (epoch + 1) % tc["checkpoint_every"] == 0 or epoch == tc["epochs"] - 1:
                checkpoint.save(last, model, optimizer, {"epoch": epoch, "step": step, "seed": seed})
            means = ", ".join(f"{k} {v / max(n, 1):.3f}" for k, v in sorted(sums.items()))
            log(f"mese seed {seed} epoch {epoch + 1}: {means}, {elapsed:.1f}s")
        dist.barrier()
    return folder
