"""The one training loop: a `Trainable` (what a model's recipe gives) plus a config, into a run
folder that is the same for every kind.

A `Trainable` has four parts, the shape torchtune's recipes and Accelerate's loops share:
`optimizer(params)`, `steps_per_epoch()`, `batches(epoch, skip)` (this rank's batches of an epoch,
the first `skip` left out without being built) and `validate(model, epoch)` (a record and a score to
select `checkpoints/best` by, or nothing). The model's `forward(batch)` returns `(loss, parts)`.

The loop adds, once for everyone: learning-rate schedule (linear or constant, warm-up), gradient
clipping, bf16 autocast on GPU, DDP under torchrun (rank 0 writes), progress bars on a terminal,
`metrics.jsonl` (step, epoch, loss and its parts, lr, samples/s; a record per epoch), and `checkpoints/last`
after every epoch and every `train.checkpoint_steps` steps. A checkpoint carries the position in the
epoch and the random states (Python, numpy, torch, CUDA), so a run killed with SIGKILL and started
again continues exactly where the checkpoint was and ends with the metrics of an uninterrupted run.
Log lines of steps after the checkpoint are cut from `metrics.jsonl` on resume.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from modeling.core.progress import bar as progress_bar
from modeling.core.seeding import epoch_seed

METRICS_FILE = "metrics.jsonl"


class Trainable(Protocol):
    name: str

    def optimizer(self, params: list): ...

    def steps_per_epoch(self) -> int: ...

    def batches(self, epoch: int, skip: int) -> Iterable[dict]: ...

    def batch_size(self, batch: dict) -> int: ...

    def validate(self, model, epoch: int) -> tuple[dict, float | None]: ...


@dataclass
class Schedule:
    total: int
    kind: str = "linear"  # linear decay to 0, or constant
    warmup: int = 0

    def factor(self, step: int) -> float:
        if self.warmup and step < self.warmup:
            return (step + 1) / self.warmup
        if self.kind == "linear":
            return max(0.0, (self.total - step) / max(1, self.total - self.warmup))
        return 1.0


def lr_factor(step: int, total: int, schedule: str, warmup: int) -> float:
    return Schedule(total, schedule, warmup).factor(step)


def loss_of(model):
    """A model whose training loss is its `loss(batch)` method, as the `(loss, parts)` forward the
    loop calls (through DDP when distributed). Checkpoints hold the wrapper's keys (`model.*`)."""
    import torch

    class LossOf(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.model = inner

        def forward(self, batch):
            return self.model.loss(batch), {}

    return LossOf(model)


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

    def wrap(self, model, device, broadcast_buffers: bool = True):
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        return DDP(model, device_ids=ids, find_unused_parameters=True, broadcast_buffers=broadcast_buffers)


def start_run(cfg: dict, folder: str):
    """Threads, device and the process group of one seed's run; its folder exists afterwards."""
    from modeling.core.seeding import set_threads
    from modeling.train.device import pick_device

    set_threads(cfg.get("threads"))
    device = pick_device(cfg["device"])
    os.makedirs(folder, exist_ok=True)
    return device, Distributed(device)


def main_first(dist: Distributed, make):
    """`make()` on rank 0 first (it may write shared files: features, a tokenizer), then on the
    other ranks, which then read them."""
    if dist.enabled and not dist.main:
        dist.barrier()
    result = make()
    if dist.enabled and dist.main:
        dist.barrier()
    return result


def run_seeds(cfg: dict, train_one) -> list[str]:
    """`train_one(seed, folder)` for every seed of the config, in `output_dir/seed-<s>/`."""
    out = cfg.get("output_dir")
    if not out:
        raise ValueError("output_dir is not set")
    return [train_one(int(seed), os.path.join(out, f"seed-{seed}")) for seed in cfg["seeds"]]


def random_states() -> dict:
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_random_states(state: dict) -> None:
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _trim_log(path: str, step: int) -> None:
    """Drop log lines written after the checkpoint a run resumes from (they will be written again)."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as fh:
        keep = [line for line in fh if line.strip() and json.loads(line).get("step", 0) <= step]
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.writelines(keep)
    os.replace(tmp, path)


def fit(task: Trainable, model, cfg: dict, folder: str, device, seed: int, dist: Distributed, log=print) -> dict:
    """Train `model` on `task` into `folder`; resumes from `folder/checkpoints/last`. Returns sizes."""
    import torch

    from modeling.train import checkpoint
    from modeling.train.device import optimizer_step
    from pipelines.core.engine import fault_point

    tc = cfg["train"]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = task.optimizer(params)
    steps = task.steps_per_epoch()
    total = tc.get("max_steps") or steps * tc["epochs"]
    epochs = min(tc["epochs"], -(-total // steps))
    warmup = task.warmup_steps(steps) if hasattr(task, "warmup_steps") else tc.get("warmup_steps", 0)
    schedule = Schedule(total, getattr(task, "schedule", None) or tc.get("schedule", "linear"), warmup)
    group_lrs = getattr(task, "group_lrs", None)  # per parameter group, when a recipe schedules its own
    every_epochs, every_steps = tc.get("checkpoint_every", 1), tc.get("checkpoint_steps", 0)
    last, best_dir = os.path.join(folder, "checkpoints", "last"), os.path.join(folder, "checkpoints", "best")
    metrics_path = os.path.join(folder, METRICS_FILE)
    start_epoch, skip, step, best, resumed, carried = 0, 0, 0, -float("inf"), None, {}
    if checkpoint.exists(last):
        st = checkpoint.load(last, model, optimizer, device)
        step, best = st["step"], st.get("best", -float("inf"))
        if st.get("in_epoch"):  # a checkpoint inside an epoch: continue at the next batch
            start_epoch, skip = st["epoch"], st["in_epoch"]
            resumed = checkpoint.load_random_states(last)
            carried = st.get("sums", {})
            log(f"resuming {folder} in epoch {start_epoch} after its batch {skip} (step {step})")
        else:
            start_epoch = st["epoch"] + 1
            log(f"resuming {folder} after epoch {st['epoch']} (step {step})")
        if dist.main:
            _trim_log(metrics_path, step)
    net = dist.wrap(model, device, broadcast_buffers=getattr(task, "broadcast_buffers", True))
    logs_every = tc.get("log_every", 10)
    loss = None

    def save(epoch: int, in_epoch: int, sums: dict | None = None) -> None:
        state = {"epoch": epoch, "step": step, "best": best, "seed": seed, "in_epoch": in_epoch}
        if in_epoch:
            state["sums"] = sums  # the epoch's running loss sums, so its record covers every step
        checkpoint.save(last, model, optimizer, state, random_states() if in_epoch else None)
        fault_point("checkpoint_saved")

    for epoch in range(start_epoch, epochs):
        n_steps = min(steps, total - (step - skip))
        if n_steps <= skip:
            break
        if resumed is not None:
            set_random_states(resumed)
            resumed = None
        else:
            torch.manual_seed(epoch_seed(seed, epoch))  # dropout stream per epoch
        model.train()
        bar = progress_bar(n_steps - skip, f"{task.name} seed {seed} epoch {epoch + 1}/{epochs}", tc.get("progress", True) and dist.main)
        t0, seen, in_epoch = time.perf_counter(), 0, skip
        sums, carried = dict(carried), {}
        for batch in task.batches(epoch, skip):
            if in_epoch >= n_steps:
                break
            lr = group_lrs(step) if group_lrs else tc["lr"] * schedule.factor(step)
            batch, loss, parts = optimizer_step(
                net, batch, optimizer, params, device=device, precision=cfg.get("precision", "fp32"), lr=lr, grad_clip=tc.get("grad_clip")
            )
            step, in_epoch = step + 1, in_epoch + 1
            seen += task.batch_size(batch)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            if bar:
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
            line = None
            if step % logs_every == 0 or step == total:
                rate = seen * dist.world / max(time.perf_counter() - t0, 1e-9)
                line = {"step": step, "epoch": epoch, "loss": float(loss.detach()), "lr": lr, "samples_per_s": rate, **parts}
            if dist.main and line:
                with open(metrics_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(line, sort_keys=True) + "\n")
            if every_steps and in_epoch % every_steps == 0 and in_epoch < n_steps and dist.main:
                save(epoch, in_epoch, sums)
        if bar:
            bar.close()
        elapsed = time.perf_counter() - t0
        record = {
            "epoch": epoch,
            "step": step,
            "epoch_s": elapsed,
            "train_samples_per_s": seen * dist.world / max(elapsed, 1e-9),
            **{f"mean_{k}": v / max(in_epoch, 1) for k, v in sums.items()},
        }
        score = None
        if dist.main:
            extra, score = task.validate(model, epoch)
            record.update(extra)
            with open(metrics_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, sort_keys=True) + "\n")
            if score is not None and score > best:
                best = score
                checkpoint.save(best_dir, model, None, {"epoch": epoch, "step": step, "best": best, "seed": seed})
            if (epoch + 1) % every_epochs == 0 or epoch == epochs - 1:
                save(epoch, 0)
            means = ", ".join(f"{k} {v / max(in_epoch, 1):.4f}" for k, v in sorted(sums.items())[:6])
            log(
                f"{task.name} seed {seed} epoch {epoch + 1}/{epochs}"
                + (f": loss {float(loss.detach()):.4f}" if loss is not None else "")
                + (f", {means}" if means else "")
                + f", {record['train_samples_per_s']:.1f} samples/s"
                + (f", valid {score:.4f}" if score is not None else "")
            )
        skip = 0
        dist.barrier()
    return {"steps": step, "epochs": epochs, "steps_per_epoch": steps, "world_size": dist.world}
