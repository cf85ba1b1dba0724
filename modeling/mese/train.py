"""`mmdial train mese`: one run per seed under `output_dir/seed-<s>/`, trained by the one loop
(`modeling.core.loop.fit`: the shared run folder, resume after kill -9, bf16 autocast on GPU, DDP
under torchrun). What is MESE's here: AdamW, one linear warm-up epoch then linear decay, and the
batches of `mese.batch.TrainBatches` (each rank trains its share of the samples)."""

from __future__ import annotations

import json
import os

from modeling.config import save_config
from modeling.core.loop import fit, main_first, run_seeds, start_run
from modeling.core.seeding import seed_everything


class MeseTrainable:
    name = "mese"

    def __init__(self, cfg: dict, batches, seed: int):
        self.cfg, self.data, self.seed = cfg, batches, seed

    def optimizer(self, params):
        import torch

        tc = self.cfg["train"]
        return torch.optim.AdamW(params, lr=tc["lr"], eps=tc["eps"], weight_decay=tc["weight_decay"])

    def steps_per_epoch(self) -> int:
        return self.data.steps()

    def warmup_steps(self, steps: int) -> int:
        return steps * self.cfg["train"]["warmup_epochs"]

    def batches(self, epoch: int, skip: int):
        return self.data.epoch(self.seed, epoch, skip)

    @staticmethod
    def batch_size(batch: dict) -> int:
        return int(batch["input_ids"].shape[0])

    def validate(self, model, epoch: int):
        return {}, None


def train(cfg: dict, log=print) -> list[str]:
    return run_seeds(cfg, lambda seed, folder: train_one(cfg, seed, folder, log))


def train_one(cfg: dict, seed: int, folder: str, log=print) -> str:
    from modeling.mese.batch import TrainBatches
    from modeling.mese.setup import Setup

    device, dist = start_run(cfg, folder)
    tc = cfg["train"]
    setup = main_first(dist, lambda: Setup.create(cfg, folder))  # rank 0 trains and saves the tokenizer first
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
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
    if dist.main:
        save_config(cfg, os.path.join(folder, "config.yaml"))
        with open(os.path.join(folder, "run.json"), "w", encoding="utf-8") as fh:
            json.dump(info, fh, indent=2, sort_keys=True)
    fit(MeseTrainable(cfg, batches, seed), model, cfg, folder, device, seed, dist, log)
    return folder
