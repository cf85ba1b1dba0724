"""`mmdial train jddc-*` and `mmdial evaluate jddc-*`: any task of `modeling.jddc.tasks.TASKS`.

A run is `output_dir/seed-<s>/` per seed, holding `config.yaml` (resolved config), `run.json`
(task, variant, sizes), `tokenizer.json` (the character vocabulary of the training text; absent
with `model.pretrained`), `metrics.jsonl` (training log) and `checkpoints/last/` (safetensors).
`evaluate` scores a split (default test) of the run's build, or of another build (`--data`: the
model, the retrieval index and the trivial baseline still come from the training build), per seed into
`seed-<s>/metrics.json` and `seed-<s>/samples.jsonl` (the first `loader.samples` predictions next
to their references), and writes `output_dir/metrics.json`: every metric's mean and std over
seeds, with the trivial baseline scored on the same examples.
"""

from __future__ import annotations

import json
import os

import numpy as np
import yaml

from modeling.config import save_config
from modeling.core.runs import seed_folders, summarise_seeds, write_json
from modeling.data.tables import DataError


def _setup(cfg: dict, seed: int):
    from modeling.core.seeding import seed_everything, set_threads
    from modeling.train.device import pick_device

    set_threads(cfg.get("threads"))
    seed_everything(seed, cfg["deterministic"])
    return pick_device(cfg["device"])


def _limit(examples: list, n: int) -> list:
    return examples[:n] if n else examples


def _features(task, cfg: dict, folder: str, device, progress: bool, extra_data: str | None = None):
    """(image rows per example function, feature dim, bank tensor) - only for multimodal runs.
    `extra_data`: a second build (evaluation on another build) whose features join the bank."""
    import torch

    from modeling.data.catalogue import ImageFeatures
    from modeling.jddc.features import image_rows, load_features

    if not (task.multimodal or task.uses_images):
        return (lambda exs: np.full((len(exs), 0), -1, np.int64)), 0, None
    feats = load_features(cfg["data"], cfg["image"], folder, str(device), progress)
    if extra_data and os.path.abspath(extra_data) != os.path.abspath(cfg["data"]):
        import pyarrow as pa

        other = load_features(extra_data, cfg["image"], os.path.join(folder, "eval-features"), str(device), progress)
        feats = ImageFeatures(pa.concat_arrays([feats.ids, other.ids]), np.concatenate([feats.matrix, other.matrix]), feats.encoder)
    bank = torch.from_numpy(feats.matrix)
    return (lambda exs: image_rows(feats, [ex.images for ex in exs], cfg["loader"]["max_images"])), feats.dim, bank


def train(task_name: str, cfg: dict, log=print) -> list[str]:
    from modeling.core.loop import run_seeds
    from modeling.jddc.data import check_build
    from modeling.jddc.tasks import make_task

    if not cfg.get("output_dir"):
        raise ValueError("output_dir is not set")
    check_build(cfg.get("data"))
    make_task(task_name, cfg)  # fail fast on a bad task or kind
    return run_seeds(cfg, lambda seed, folder: train_one(task_name, cfg, seed, folder, log))


def train_one(task_name: str, cfg: dict, seed: int, folder: str, log=print) -> str:
    from modeling.core.loop import Distributed, fit
    from modeling.core.seeding import seed_everything
    from modeling.jddc.tasks import make_task
    from modeling.jddc.tokenizer import build_tokenizer, load_run_tokenizer
    from modeling.jddc.trainer import JddcTrainable

    device = _setup(cfg, seed)
    dist = Distributed(device)
    task = make_task(task_name, cfg)
    os.makedirs(folder, exist_ok=True)
    train_ex = _limit(task.examples(cfg["data"], "train"), cfg["loader"]["max_train_examples"])
    if not train_ex:
        raise DataError(f"{cfg['data']}: no training examples for {task_name}")
    pretrained = cfg["model"]["pretrained"]
    if os.path.exists(os.path.join(folder, "tokenizer.json")) or pretrained:
        tok = load_run_tokenizer(folder, pretrained)
    else:
        tok = build_tokenizer(None, task.tokenizer_texts(train_ex), cfg["tokenizer"]["min_freq"], cfg["tokenizer"]["max_vocab"])
        if dist.main:
            tok.save(folder)
    if dist.enabled and not dist.main:
        dist.barrier()
    rows_of, feat_dim, bank = _features(task, cfg, folder, device, cfg["train"]["progress"] and dist.main)
    if dist.enabled and dist.main:
        dist.barrier()
    prep = task.prepare(tok, train_ex, rows_of(train_ex))
    seed_everything(seed, cfg["deterministic"])  # after the data set-up, which may draw random numbers of its own
    model = task.build_model(tok, feat_dim, bank).to(device)
    info = {
        "task": task_name,
        "row": task.row(),
        "table": task.table,
        "multimodal": task.multimodal,
        "seed": seed,
        "train_examples": len(train_ex),
        "vocab": tok.vocab_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "image_features": feat_dim,
        "device": str(device),
    }
    if dist.main:
        save_config(cfg, os.path.join(folder, "config.yaml"))
        write_json(os.path.join(folder, "run.json"), info)
    trainable = JddcTrainable(task_name, cfg, lambda epoch: task.batches(tok, prep, seed, epoch), dist.rank, dist.world)
    stats = fit(trainable, model, cfg, folder, device, seed, dist, log)
    if dist.main:
        write_json(os.path.join(folder, "run.json"), {**info, **stats})
    return folder


def evaluate_run(
    run: str, split: str = "test", data: str | None = None, device: str | None = None, max_examples: int | None = None, log=print
) -> dict:
    folders = seed_folders(run)
    per_seed = [evaluate_one(f, split, data, device, max_examples, log) for f in folders]
    return summarise_seeds(run, folders, per_seed, split, ("task", "table", "row", "multimodal", "examples"))


def evaluate_one(folder: str, split: str, data: str | None, device: str | None, max_examples: int | None, log=print) -> dict:
    import torch

    from modeling.jddc.tasks import make_task
    from modeling.jddc.tokenizer import load_run_tokenizer
    from modeling.train import checkpoint

    with open(os.path.join(folder, "config.yaml"), encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    with open(os.path.join(folder, "run.json"), encoding="utf-8") as fh:
        info = json.load(fh)
    test_data = os.path.abspath(data) if data else cfg["data"]
    if device:
        cfg["device"] = device
    dev = _setup(cfg, int(info["seed"]))
    task = make_task(info["task"], cfg)
    tok = load_run_tokenizer(folder, cfg["model"]["pretrained"])
    n = cfg["loader"]["max_eval_examples"] if max_examples is None else max_examples
    test_ex = _limit(task.examples(test_data, split), n)
    if not test_ex:
        raise DataError(f"{test_data}: no {split} examples for {info['task']}")
    train_ex = _limit(task.examples(cfg["data"], "train"), cfg["loader"]["max_train_examples"])
    rows_of, feat_dim, bank = _features(task, cfg, folder, dev, False, test_data)
    model = task.build_model(tok, feat_dim, bank).to(dev)
    checkpoint.load(os.path.join(folder, "checkpoints", "last"), model, None, dev)
    model.eval()
    prep = task.prepare(tok, test_ex, rows_of(test_ex))
    train_prep = task.prepare(tok, train_ex, rows_of(train_ex)) if task.needs_train_at_predict else None
    with torch.no_grad():
        preds = task.predict(model, tok, prep, dev, train_prep)
    result = {
        "task": info["task"],
        "table": task.table,
        "row": task.row(),
        "multimodal": task.multimodal,
        "seed": info["seed"],
        "split": split,
        "data": test_data,
        "examples": len(test_ex),
        "metrics": task.score(preds, test_ex),
        "trivial": task.trivial(train_ex, test_ex),
    }
    write_json(os.path.join(folder, "metrics.json"), result)
    with open(os.path.join(folder, "samples.jsonl.tmp"), "w", encoding="utf-8") as fh:
        for p, ex in list(zip(preds, test_ex, strict=True))[: cfg["loader"]["samples"]]:
            fh.write(json.dumps(task.sample(p, ex), ensure_ascii=False) + "\n")
    os.replace(os.path.join(folder, "samples.jsonl.tmp"), os.path.join(folder, "samples.jsonl"))
    log(f"{info['task']} seed {info['seed']}: " + ", ".join(f"{k} {v:.4f}" for k, v in result["metrics"].items()))
    return result
