"""`mmdial train semantic|clip|text`: one run per seed under `output_dir/seed-<s>/`, trained by the
one loop (`modeling.core.loop.fit`), which writes the run folder every kind shares: `config.yaml`
(the resolved config), `run.json` (model kind, seed, slot keys, data sizes), `metrics.jsonl`
(step lines: losses, learning rate; a record per epoch with validation NDCG) and
`checkpoints/{last,best}` in safetensors; resume after kill -9 from `checkpoints/last`.
What is SeMANTIC's here: Adam, the streaming batches (`RecTrainable.batches`), and validation on
`loader.valid_turns` turns of the valid split (NDCG@5 selects `checkpoints/best`).
"""

from __future__ import annotations

import json
import os

from modeling.config import save_config
from modeling.core.loop import Distributed, fit, lr_factor, main_first, run_seeds, start_run  # noqa: F401 (re-exported)
from modeling.core.seeding import seed_everything
from modeling.train.device import autocast, optimizer_step, pick_device, to_device  # noqa: F401 (re-exported)
from modeling.train.evaluate import evaluate_model


class RecTrainable:
    """SeMANTIC and its baselines for the core loop."""

    broadcast_buffers = False

    def __init__(self, kind: str, cfg: dict, rt, stream, seed: int, device):
        self.name, self.cfg, self.rt, self.stream, self.seed, self.device = kind, cfg, rt, stream, seed, device
        self.loader = _loader(stream, cfg["loader"]["num_workers"], device, seed)

    def optimizer(self, params):
        import torch

        tc = self.cfg["train"]
        return torch.optim.Adam(params, lr=tc["lr"], weight_decay=tc["weight_decay"])

    def steps_per_epoch(self) -> int:
        return self.stream.steps_per_epoch()

    def batches(self, epoch: int, skip: int):
        tc = self.cfg["train"]
        steps = self.steps_per_epoch()
        total = tc["max_steps"] or steps * tc["epochs"]
        self.stream.set_epoch(epoch, min(steps, total - epoch * steps), skip)
        return self.loader

    @staticmethod
    def batch_size(batch: dict) -> int:
        return int(batch["pos_row"].shape[0])

    def validate(self, model, epoch: int):
        turns = self.cfg["loader"]["valid_turns"]
        if not turns:
            return {}, None
        gold = self.name != "semantic" and self.rt.feeds_states(self.name)
        states = self.rt.attach_states(model, "valid") if gold else None
        res = evaluate_model(model, self.rt.eval_stream("valid", turns, states), self.device, self.cfg["precision"])
        if gold:
            self.rt.attach_states(model, "train")  # back to the training split's value vocabulary
        return {"valid": res["metrics"]}, res["metrics"]["NDCG@5"]


def train(kind: str, cfg: dict, log=print) -> list[str]:
    """Train one run per seed; returns the run folders."""
    if cfg.get("name") == "smoke":
        log(
            "smoke config: a CPU-sized model (64 wide, 1 layer, random word embeddings, pretrained EfficientNet-lite0 "
            f"features at {cfg['image']['image_size']} px), not a paper setting (see mmd_v3)"
        )
    return run_seeds(cfg, lambda seed, folder: train_one(kind, cfg, seed, folder, log))


def train_one(kind: str, cfg: dict, seed: int, folder: str, log=print) -> str:
    import torch

    from modeling.runtime import Runtime

    device, dist = start_run(cfg, folder)
    tc = cfg["train"]
    # rank 0 computes missing image features first; the others then read them
    rt = main_first(dist, lambda: Runtime.load(cfg, cfg["data"], str(device), fallback_out=folder, progress=tc["progress"] and dist.main))
    states = rt.states("train") if kind == "semantic" else None
    seed_everything(seed, cfg["deterministic"])  # after the data set-up, which may draw random numbers of its own
    model = rt.build_model(kind).to(device)
    if kind != "semantic" and rt.feeds_states(kind):
        states = rt.attach_states(model, "train")
    if kind == "semantic":
        values = states.values if states is not None else ["none"]
        model.slots.value_tokens = torch.from_numpy(rt.value_tokens(values)).long().to(device)
    stream = rt.train_stream(seed, dist.rank, dist.world, states)
    steps = stream.steps_per_epoch()
    total_steps = tc["max_steps"] or steps * tc["epochs"]
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
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "df_samples": int(states.in_df.sum()) if states is not None else 0,
        "state_values": len(states.values) if states is not None else 0,
    }
    if dist.main:
        save_config(cfg, os.path.join(folder, "config.yaml"))
        with open(os.path.join(folder, "run.json"), "w", encoding="utf-8") as fh:
            json.dump(info, fh, indent=2, sort_keys=True)
    fit(RecTrainable(kind, cfg, rt, stream, seed, device), model, cfg, folder, device, seed, dist, log)
    return folder


def _loader(stream, workers: int, device, seed: int):
    """Batches come whole from the stream (the same for any number of workers); the loader's own
    seed draw uses a generator of its own, so it never shifts the global torch RNG (dropout)."""
    import torch
    import torch.utils.data as tud

    return tud.DataLoader(
        stream,
        batch_size=None,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
        generator=torch.Generator().manual_seed(seed),
    )
