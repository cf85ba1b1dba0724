"""`mmdial train jddc-discourse` / `mmdial evaluate jddc-discourse`: Deep Sequential runs.

One run per seed in `output_dir/seed-<s>/`, the run folder every kind writes (the one loop,
`modeling.core.loop.fit`): `config.yaml` (resolved), `run.json` (sizes, the majority relation),
`tokenizer.json`, `metrics.jsonl` (losses per step; per epoch the validation Link and Link &
Relation F1), `checkpoints/best` (the epoch with the best validation Link & Relation F1) and
`checkpoints/last` (resume after kill -9). `model.multimodal` picks the variant (image EDUs
through a feed-forward layer, or ignored).

Evaluation scores a split with `discourse/metrics.discourse_f1` and also scores, on the same
sessions and EDUs (text-only: the text EDUs), the baseline that attaches every EDU to the one
before it with the training set's most frequent relation.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import numpy as np

from modeling.config import save_config
from modeling.core.seeding import seed_everything, set_threads
from modeling.jddc.discourse.data import RELATIONS, DiscourseExample, discourse_examples
from modeling.jddc.discourse.metrics import discourse_f1
from modeling.jddc.trainer import ShuffledExamples

RUN_FILE = "run.json"


def _device(name: str):
    from modeling.train.loop import pick_device

    return pick_device(name)


def _batch(examples: list[DiscourseExample], tok, vectors, max_chars: int, device) -> dict:
    import torch

    b, n = len(examples), max(len(x.edus) for x in examples)
    length = max(1, min(max_chars, max((len(e.text) for x in examples for e in x.edus), default=1)))
    chars = np.full((b, n, length), tok.pad_id, dtype=np.int64)
    speakers = np.zeros((b, n), dtype=np.int64)
    is_image = np.zeros((b, n), dtype=bool)
    parents = np.full((b, n), -1, dtype=np.int64)
    relations = np.full((b, n), -1, dtype=np.int64)
    images = np.zeros((b, n, vectors.dim), dtype=np.float32) if vectors is not None else None
    for k, x in enumerate(examples):
        for i, (edu, (p, r)) in enumerate(zip(x.edus, x.gold_parents(), strict=True)):
            ids = tok.encode(edu.text)[:length] or [tok.img_id]
            chars[k, i, : len(ids)] = ids
            speakers[k, i] = 0 if edu.user else 1
            parents[k, i], relations[k, i] = p, r
            if images is not None and edu.is_image:
                vec = vectors.get(edu.image_ids)
                if vec is not None:
                    images[k, i] = vec
                    is_image[k, i] = True
    out = {
        "chars": torch.from_numpy(chars),
        "speakers": torch.from_numpy(speakers),
        "is_image": torch.from_numpy(is_image),
        "parents": torch.from_numpy(parents),
        "relations": torch.from_numpy(relations),
    }
    if images is not None:
        out["images"] = torch.from_numpy(images)
    return {k: v.to(device) for k, v in out.items()}


def predict(model, examples: list[DiscourseExample], tok, vectors, cfg: dict, device) -> list[list[tuple[int, int, str]]]:
    """Predicted (turn_index, parent_turn_index, relation) links of each example."""
    import torch

    model.eval()
    out = []
    bs = cfg["train"]["batch_size"]
    with torch.no_grad():
        for start in range(0, len(examples), bs):
            chunk = examples[start : start + bs]
            batch = _batch(chunk, tok, vectors, cfg["model"]["max_edu_chars"], device)
            _, _, parents, rels = model(batch, gold=False)
            for k, x in enumerate(chunk):
                links = []
                for i in range(1, len(x.edus)):
                    p, r = int(parents[k, i]), int(rels[k, i])
                    links.append((x.edus[i].turn_index, x.edus[p].turn_index, RELATIONS[r]))
                out.append(links)
    return out


def previous_edu_links(x: DiscourseExample, relation: str) -> list[tuple[int, int, str]]:
    """The baseline: every EDU the parser sees attached to the one before it (text-only: the
    previous text EDU), with one relation for all."""
    turns = [e.turn_index for e in x.edus]
    return [(c, p, relation) for p, c in zip(turns, turns[1:])]


def _score(examples: list[DiscourseExample], predicted: list[list[tuple]]) -> dict:
    return discourse_f1((x.gold, p) for x, p in zip(examples, predicted, strict=True))


def train(cfg: dict, log=print) -> list[str]:
    from modeling.core.loop import run_seeds

    return run_seeds(cfg, lambda seed, folder: train_one(cfg, seed, folder, log))


def _load_vectors(cfg: dict, data: str, folder: str, device):
    if not cfg["model"]["multimodal"]:
        return None
    from modeling.jddc.image_vectors import ImageVectors

    return ImageVectors.load(data, cfg["image"], folder, str(device))


class DiscourseTrainable(ShuffledExamples):
    """Deep Sequential for the one training loop: Adam at a constant rate, sessions shuffled per
    (seed, epoch), validation Link & Relation F1 selecting `checkpoints/best`."""

    name = "jddc-discourse"
    schedule = "constant"

    def __init__(self, cfg: dict, seed: int, train_x, valid_x, tok, vectors, device, model):
        self.cfg, self.seed, self.items, self.valid_x = cfg, seed, train_x, valid_x
        self.tok, self.vectors, self.device, self.model = tok, vectors, device, model

    def optimizer(self, params):
        import torch

        return torch.optim.Adam(params, lr=self.cfg["train"]["lr"])

    def collate(self, chunk: list) -> dict:
        return _batch(chunk, self.tok, self.vectors, self.cfg["model"]["max_edu_chars"], self.device)

    @staticmethod
    def batch_size(batch: dict) -> int:
        return int(batch["chars"].shape[0])

    def validate(self, wrapped, epoch: int):
        if not self.valid_x:
            return {}, None
        score = _score(self.valid_x, predict(self.model, self.valid_x, self.tok, self.vectors, self.cfg, self.device))
        return {"valid_link_f1": score["link"]["f1"], "valid_link_relation_f1": score["link_relation"]["f1"]}, score["link_relation"]["f1"]


def train_one(cfg: dict, seed: int, folder: str, log=print) -> str:
    from modeling.core.loop import Distributed, fit, loss_of
    from modeling.core.runs import write_json
    from modeling.jddc.discourse.model import DeepSequential
    from modeling.jddc.tokenizer import build_tokenizer

    set_threads(cfg.get("threads"))
    device = _device(cfg["device"])
    data, multimodal = cfg["data"], cfg["model"]["multimodal"]
    train_x = discourse_examples(data, "train", multimodal)
    valid_x = discourse_examples(data, "valid", multimodal)
    if not train_x:
        raise ValueError(f"{data}: no jddc_discourse rows in the train split")
    os.makedirs(folder, exist_ok=True)
    save_config(cfg, os.path.join(folder, "config.yaml"))
    tok = build_tokenizer(None, (e.text for x in train_x for e in x.edus))
    tok.save(folder)
    vectors = _load_vectors(cfg, data, folder, device)
    majority = Counter(r for x in train_x for _, _, r in x.gold).most_common(1)[0][0]
    seed_everything(seed, cfg.get("deterministic", True))  # after the data set-up, which may draw random numbers of its own
    model = DeepSequential(tok.vocab_size, len(RELATIONS), cfg["model"], vectors.dim if vectors else 0, tok.pad_id).to(device)
    run = {
        "task": "jddc-discourse",
        "seed": seed,
        "multimodal": multimodal,
        "vocab_size": tok.vocab_size,
        "image_dim": vectors.dim if vectors else 0,
        "majority_relation": majority,
        "train_sessions": len(train_x),
        "valid_sessions": len(valid_x),
    }
    write_json(os.path.join(folder, RUN_FILE), run)
    task = DiscourseTrainable(cfg, seed, train_x, valid_x, tok, vectors, device, model)
    fit(task, loss_of(model), cfg, folder, device, seed, Distributed(device), log)
    return folder


def load_run(folder: str, device="cpu"):
    """(model, tokenizer, config, run.json) of a trained seed folder."""
    import yaml

    from modeling.core.loop import loss_of
    from modeling.jddc.discourse.model import DeepSequential
    from modeling.jddc.tokenizer import load_run_tokenizer
    from modeling.train import checkpoint

    with open(os.path.join(folder, "config.yaml"), encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    with open(os.path.join(folder, RUN_FILE), encoding="utf-8") as fh:
        run = json.load(fh)
    tok = load_run_tokenizer(folder, None)
    model = DeepSequential(run["vocab_size"], len(RELATIONS), cfg["model"], run["image_dim"], tok.pad_id).to(device)
    checkpoint.load(checkpoint.chosen(folder), loss_of(model), None, device)
    return model, tok, cfg, run


def evaluate_seed(folder: str, split: str = "test", data: str | None = None, device: str = "auto") -> dict:
    device = _device(device)
    model, tok, cfg, run = load_run(folder, device)
    data = data or cfg["data"]
    examples = discourse_examples(data, split, run["multimodal"])
    if not examples:
        raise ValueError(f"{data}: no annotated discourse sessions in split {split!r}")
    vectors = _load_vectors(cfg, data, folder, device)
    predicted = predict(model, examples, tok, vectors, cfg, device)
    baseline = [previous_edu_links(x, run["majority_relation"]) for x in examples]
    with open(os.path.join(folder, f"predictions-{split}.jsonl"), "w", encoding="utf-8") as fh:
        for x, p in zip(examples, predicted, strict=True):
            fh.write(json.dumps({"dialog_id": x.dialog_id, "gold": x.gold, "predicted": p}, ensure_ascii=False) + "\n")
    return {
        "model": _score(examples, predicted),
        "previous_edu": _score(examples, baseline),
        "sessions": len(examples),
        "multimodal": run["multimodal"],
    }
