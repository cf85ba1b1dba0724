"""`mmdial train`: one run per seed under `output_dir/seed-<s>/`.

A run folder holds `config.yaml` (the resolved config), `run.json` (model kind, seed, slot
keys, data sizes), `metrics.jsonl` (training log: losses, learning rate, samples/s; validation
after each epoch), and `checkpoints/{last,best}` in safetensors. Starting a run whose folder
already has `checkpoints/last` resumes after its epoch (model, Adam state, step); the data order
and dropout are seeded per (seed, epoch), so a resumed run continues as the uninterrupted one
would have. On GPU the forward pass runs under bf16 autocast; on CPU in float32. Under torchrun
each process trains its share of every batch stream and DDP averages the gradients; rank 0
writes the files.
"""

from __future__ import annotations

import json
import os
import time

from modeling.config import save_config
from modeling.core.progress import bar as _bar
from modeling.core.seeding import epoch_seed, seed_everything, set_threads  # noqa: F401 (seed_everything re-exported)
from modeling.train import checkpoint
from modeling.train.device import autocast, optimizer_step, pick_device, to_device  # noqa: F401 (re-exported)
from modeling.train.evaluate import evaluate_model


def lr_factor(step: int, total: int, schedule: str, warmup: int) -> float:
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "linear":
        return max(0.0, (total - step) / max(1, total - warmup))
    return 1.0


class Distributed:
    """torchrun environment (WORLD_SIZE, RANK, LOCAL_RANK) or a single process."""

    def __init__(self, device):
        import torch.distributed as dist

        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.enabled = self.world > 1
        if self.enabled and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            if device.type == "cuda":
                import torch

                torch.cuda.set_device(device)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()


def train(kind: str, cfg: dict, log=print) -> list[str]:
    """Train one run per seed; returns the run folders."""
    out = cfg["output_dir"]
    if not out:
        raise ValueError("output_dir is not set")
    if cfg.get("name") == "smoke":
        log(
            "smoke config: a CPU-sized model (64 wide, 1 layer, random word embeddings, pretrained EfficientNet-lite0 "
            f"features at {cfg['image']['image_size']} px), not a paper setting (see mmd_v3)"
        )
    folders = []
    for seed in cfg["seeds"]:
        folders.append(train_one(kind, cfg, int(seed), os.path.join(out, f"seed-{seed}"), log))
    return folders


def train_one(kind: str, cfg: dict, seed: int, folder: str, log=print) -> str:
    import torch

    from modeling.runtime import Runtime

    set_threads(cfg.get("threads"))
    device = pick_device(cfg["device"])
    dist = Distributed(device)
    os.makedirs(folder, exist_ok=True)
    tc = cfg["train"]
    if dist.enabled and not dist.main:
        dist.barrier()  # rank 0 computes missing image features first; the others then read them
    rt = Runtime.load(cfg, cfg["data"], str(device), fallback_out=folder, progress=tc["progress"] and dist.main)
    if dist.enabled and dist.main:
        dist.barrier()
    states = rt.states("train") if kind == "semantic" else None
    seed_everything(seed, cfg["deterministic"])  # after the data set-up, which may draw random numbers of its own
    model = rt.build_model(kind).to(device)
    if kind == "semantic":
        values = states.values if states is not None else ["none"]
        model.slots.value_tokens = torch.from_numpy(rt.value_tokens(values)).long().to(device)
    stream = rt.train_stream(seed, dist.rank, dist.world, states)
    steps = stream.steps_per_epoch()
    total_steps = tc["max_steps"] or steps * tc["epochs"]
    epochs = min(tc["epochs"], -(-total_steps // steps))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=tc["lr"], weight_decay=tc["weight_decay"])
    info = {
        "model": kind,
        "seed": seed,
        "slot_keys": rt.slot_keys,
        "train_samples": stream.num_samples(),
        "steps_per_epoch": steps,
        "total_steps": total_steps,
        "world_size": dist.world,
        "device": str(device),
        "products": len(rt.catalogue),
        "image_features": int(rt.features.matrix.shape[0]),
        "image_encoder": rt.features.encoder,
        "parameters": sum(p.numel() for p in params),
        "df_samples": int(states.in_df.sum()) if states is not None else 0,
        "state_values": len(states.values) if states is not None else 0,
    }
    last = os.path.join(folder, "checkpoints", "last")
    start_epoch, step, best = 0, 0, -1.0
    if checkpoint.exists(last):
        st = checkpoint.load(last, model, optimizer, device)
        start_epoch, step, best = st["epoch"] + 1, st["step"], st.get("best", -1.0)
        log(f"resuming {folder} after epoch {st['epoch']} (step {step})")
    if dist.main:
        save_config(cfg, os.path.join(folder, "config.yaml"))
        with open(os.path.join(folder, "run.json"), "w", encoding="utf-8") as fh:
            json.dump(info, fh, indent=2, sort_keys=True)
    net = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True, broadcast_buffers=False)
    loader = _loader(stream, cfg["loader"]["num_workers"], device)
    valid_turns = cfg["loader"]["valid_turns"]
    metrics_path = os.path.join(folder, "metrics.jsonl")
    for epoch in range(start_epoch, epochs):
        torch.manual_seed(epoch_seed(seed, epoch))  # dropout stream per epoch (resume-exact)
        n_steps = min(steps, total_steps - step)
        if n_steps <= 0:
            break
        stream.set_epoch(epoch, n_steps)
        model.train()
        bar = _bar(n_steps, f"{kind} seed {seed} epoch {epoch + 1}/{epochs}", tc["progress"] and dist.main)
        t0, seen, logs = time.perf_counter(), 0, []
        for batch in loader:
            factor = lr_factor(step, total_steps, tc["schedule"], tc["warmup_steps"])
            batch, loss, parts = optimizer_step(
                net, batch, optimizer, params, device=device, precision=cfg["precision"], lr=tc["lr"] * factor, grad_clip=tc["grad_clip"]
            )
            step += 1
            seen += batch["pos_row"].shape[0]
            if bar:
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
            if step % tc["log_every"] == 0 or step == total_steps:
                rate = seen * dist.world / max(time.perf_counter() - t0, 1e-9)
                logs.append(
                    {"step": step, "epoch": epoch, "loss": float(loss.detach()), "lr": tc["lr"] * factor, "samples_per_s": rate, **parts}
                )
        if bar:
            bar.close()
        elapsed = time.perf_counter() - t0
        record = {"epoch": epoch, "step": step, "train_samples_per_s": seen * dist.world / max(elapsed, 1e-9), "epoch_s": elapsed}
        score = None
        if valid_turns and dist.main:
            res = evaluate_model(model, rt.eval_stream("valid", valid_turns), device, cfg["precision"])
            record["valid"] = res["metrics"]
            score = res["metrics"]["NDCG@5"]
        if dist.main:
            with open(metrics_path, "a", encoding="utf-8") as fh:
                for line in logs + [record]:
                    fh.write(json.dumps(line, sort_keys=True) + "\n")
            state = {"epoch": epoch, "step": step, "best": best, "seed": seed}
            if score is not None and score > best:
                best = state["best"] = score
                checkpoint.save(os.path.join(folder, "checkpoints", "best"), model, None, state)
            if (epoch + 1) % tc["checkpoint_every"] == 0 or epoch == epochs - 1:
                checkpoint.save(last, model, optimizer, state)
            log(
                f"{kind} seed {seed} epoch {epoch + 1}: loss {float(loss.detach()):.4f}, {record['train_samples_per_s']:.1f} samples/s"
                + (f", valid NDCG@5 {score:.4f}" if score is not None else "")
            )
        dist.barrier()
    return folder


def _loader(stream, workers: int, device):
    import torch.utils.data as tud

    return tud.DataLoader(stream, batch_size=None, num_workers=workers, pin_memory=device.type == "cuda", persistent_workers=False)
