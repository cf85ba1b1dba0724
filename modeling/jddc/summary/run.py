"""`mmdial train jddc-summary-lead|lexrank|pg|bertsum` and `mmdial evaluate` for them.

One run per seed in `output_dir/seed-<s>/`: `config.yaml` (resolved), `run.json` (method, N =
mean training summary length in characters, sizes), `trivial.json` (the trivial-utterance
filter, summary.trivial), and for the neural ones the run folder of the one loop
(`modeling.core.loop.fit`): `tokenizer.json` (or the pretrained folder's), `metrics.jsonl`,
`checkpoints/best` (the epoch with the best validation ROUGE, mean of R-1/R-2/R-L) and
`checkpoints/last` (resume after kill -9). Lead and LexRank learn only N and the filter (their
seeds give equal results).
Evaluation writes `predictions-<split>.jsonl` and returns ROUGE-1/2/L F1 over characters
(modeling.metrics.text.rouge).
"""

from __future__ import annotations

import json
import os

import numpy as np

from modeling.config import save_config
from modeling.jddc.summary.data import SummaryExample, kept_turns, plain_text, summary_examples
from modeling.jddc.summary.trivial import TrivialFilter
from modeling.jddc.trainer import ShuffledExamples

METHODS = ("lead", "lexrank", "pg", "bertsum")
RUN_FILE = "run.json"
TRIVIAL_FILE = "trivial.json"


def train(method: str, cfg: dict, log=print) -> list[str]:
    if method not in METHODS:
        raise ValueError(f"summary method {method!r}: one of {', '.join(METHODS)}")
    from modeling.core.loop import run_seeds

    return run_seeds(cfg, lambda seed, folder: train_one(method, cfg, seed, folder, log))


# -- encoding ---------------------------------------------------------------------------------
def _units(tok, text: str) -> tuple[list[int], list[str]]:
    ids = tok.encode(text)
    chars = [c for c in text if not c.isspace()]
    return ids, chars if len(chars) == len(ids) else [""] * len(ids)


def encode_source(turns, tok, max_len: int, vectors=None, max_images: int = 0) -> dict:
    """[CLS] + per turn (speaker token, characters or [IMG]); segment k mod 2 per turn; the
    extended ids and OOV list of the pointer-generator; the image vectors of image turns."""
    ids, segs, chars, images = [tok.cls_id], [0], [""], []
    for k, t in enumerate(turns):
        if t.text:
            tids, tch = _units(tok, t.text)
        else:
            tids, tch = [tok.img_id], [""]
            if vectors is not None and len(images) < max_images:
                vec = vectors.get(t.image_ids)
                if vec is not None:
                    images.append(vec)
        piece = [tok.usr_id if t.user else tok.sys_id, *tids]
        ids += piece
        segs += [k % 2] * len(piece)
        chars += ["", *tch]
    ids, segs, chars = ids[:max_len], segs[:max_len], chars[:max_len]
    oovs: list[str] = []
    ext = []
    for i, c in zip(ids, chars, strict=True):
        if i == tok.unk_id and c:
            if c not in oovs:
                oovs.append(c)
            ext.append(tok.vocab_size + oovs.index(c))
        else:
            ext.append(i)
    return {"ids": ids, "segments": segs, "ext": ext, "oovs": oovs, "images": images}


def encode_target(summary: str, tok, oovs: list[str], max_len: int) -> tuple[list[int], list[int]]:
    """(ids for the decoder input, ids with the source's OOVs in extended numbering)."""
    ids, chars = _units(tok, summary)
    ids, chars = ids[:max_len], chars[:max_len]
    ext = [tok.vocab_size + oovs.index(c) if i == tok.unk_id and c in oovs else i for i, c in zip(ids, chars, strict=True)]
    return ids, ext


def _collate(encoded: list[dict], tok, device, image_dim: int = 0) -> dict:
    import torch

    b = len(encoded)
    n = max(len(e["ids"]) for e in encoded)
    src = np.full((b, n), tok.pad_id, dtype=np.int64)
    seg = np.zeros((b, n), dtype=np.int64)
    ext = np.full((b, n), tok.pad_id, dtype=np.int64)
    for k, e in enumerate(encoded):
        src[k, : len(e["ids"])] = e["ids"]
        seg[k, : len(e["ids"])] = e["segments"]
        ext[k, : len(e["ids"])] = e["ext"]
    out = {"src": src, "segments": seg, "src_ext": ext}
    if "tgt" in encoded[0]:
        t = max(len(e["tgt"]) for e in encoded) + 1
        tin = np.full((b, t), tok.pad_id, dtype=np.int64)
        tout = np.full((b, t), tok.pad_id, dtype=np.int64)
        for k, e in enumerate(encoded):
            tin[k, : len(e["tgt"]) + 1] = [tok.bos_id, *e["tgt"]]
            tout[k, : len(e["tgt"]) + 1] = [*e["tgt_ext"], tok.eos_id]
        out.update(tgt_in=tin, tgt_out=tout)
    if image_dim:
        m = max(1, max(len(e["images"]) for e in encoded))
        imgs = np.zeros((b, m, image_dim), dtype=np.float32)
        mask = np.zeros((b, m), dtype=bool)
        for k, e in enumerate(encoded):
            for j, v in enumerate(e["images"]):
                imgs[k, j], mask[k, j] = v, True
        out.update(images=imgs, image_mask=mask)
    batch = {k: torch.from_numpy(v).to(device) for k, v in out.items()}
    batch["n_ext"] = max(len(e["oovs"]) for e in encoded)
    return batch


def _decode(ids: list[int], tok, oovs: list[str]) -> str:
    text = []
    for i in ids:
        text.append(oovs[i - tok.vocab_size] if i >= tok.vocab_size and i - tok.vocab_size < len(oovs) else tok.decode([i]))
    return "".join(text)


# -- training ---------------------------------------------------------------------------------
def _setup(cfg: dict, seed: int):
    from modeling.core.seeding import seed_everything, set_threads
    from modeling.train.device import pick_device

    set_threads(cfg.get("threads"))
    seed_everything(seed, cfg.get("deterministic", True))
    return pick_device(cfg["device"])


def _vectors(cfg: dict, data: str, folder: str, device):
    if not cfg["model"]["multimodal"]:
        return None
    from modeling.jddc.image_vectors import ImageVectors

    return ImageVectors.load(data, cfg["image"], folder, str(device))


def _build_model(method: str, cfg: dict, tok, image_dim: int):
    from modeling.jddc.summary.bertsum import BertSumAbs
    from modeling.jddc.summary.pg import PointerGenerator

    if method == "pg":
        return PointerGenerator(tok.vocab_size, cfg["pg"], tok.pad_id, tok.unk_id)
    mc = cfg["model"]
    sizes = {**cfg["bertsum"], "pretrained": mc["pretrained"], "max_source": mc["max_source"], "max_target": mc["max_target"]}
    return BertSumAbs(tok.vocab_size, sizes, image_dim, tok.pad_id)


def _encode_all(examples, mode, filt, tok, cfg, vectors, with_target: bool) -> list[dict]:
    mc = cfg["model"]
    out = []
    for x in examples:
        e = encode_source(kept_turns(x, mode, filt), tok, mc["max_source"], vectors, mc["max_images"])
        if with_target:
            e["tgt"], e["tgt_ext"] = encode_target(x.summary, tok, e["oovs"], mc["max_target"])
        out.append(e)
    return out


def generate(method: str, model, examples, encoded, tok, cfg, device, image_dim: int) -> list[str]:
    model.eval()
    bs, out = cfg["train"]["batch_size"], []
    for start in range(0, len(encoded), bs):
        chunk = encoded[start : start + bs]
        batch = _collate(chunk, tok, device, image_dim)
        ids = model.generate(batch, tok.bos_id, tok.eos_id, cfg["model"]["max_target"])
        out += [_decode(i, tok, e["oovs"]) for i, e in zip(ids, chunk, strict=True)]
    return out


def _rouge(hyps: list[str], refs: list[str]) -> dict:
    from modeling.metrics.text import rouge

    return rouge(hyps, refs)


def train_one(method: str, cfg: dict, seed: int, folder: str, log=print) -> str:
    device = _setup(cfg, seed)
    data, mode = cfg["data"], cfg["summary"]["trivial"]
    train_x = summary_examples(data, "train")
    valid_x = summary_examples(data, "valid")
    if not train_x:
        raise ValueError(f"{data}: no jddc_summaries rows in the train split")
    os.makedirs(folder, exist_ok=True)
    save_config(cfg, os.path.join(folder, "config.yaml"))
    filt = TrivialFilter().fit(train_x)
    with open(os.path.join(folder, TRIVIAL_FILE), "w", encoding="utf-8") as fh:
        json.dump(filt.to_json(), fh, ensure_ascii=False)
    run = {
        "task": f"jddc-summary-{method}",
        "method": method,
        "seed": seed,
        "trivial": mode,
        "lead_chars": round(sum(len(x.summary) for x in train_x) / len(train_x)),
        "train_sessions": len(train_x),
        "valid_sessions": len(valid_x),
        "multimodal": bool(cfg["model"]["multimodal"]) if method == "bertsum" else False,
    }
    if method in ("pg", "bertsum"):
        run.update(_train_neural(method, cfg, seed, folder, train_x, valid_x, filt, device, log))
    with open(os.path.join(folder, RUN_FILE), "w", encoding="utf-8") as fh:
        json.dump(run, fh, indent=2)
    return folder


class SummaryTrainable(ShuffledExamples):
    """Pointer-Generator (Adam at a constant rate) or BERTSUMABS (one Adam, encoder and decoder
    groups, each on its own Noam schedule) for the one training loop; sessions shuffled per (seed,
    epoch); validation ROUGE (mean of ROUGE-1/2/L F1) selects `checkpoints/best`."""

    schedule = "constant"

    def __init__(self, method: str, cfg: dict, seed: int, model, enc_train, valid_x, enc_valid, tok, device, image_dim: int):
        self.name, self.method, self.cfg, self.seed, self.model = f"jddc-summary-{method}", method, cfg, seed, model
        self.items, self.valid_x, self.enc_valid = enc_train, valid_x, enc_valid
        self.tok, self.device, self.image_dim = tok, device, image_dim

    def optimizer(self, params):
        import torch

        if self.method == "pg":
            return torch.optim.Adam(params, lr=self.cfg["train"]["lr"])
        bc = self.cfg["bertsum"]
        groups = [{"params": list(self.model.encoder_parameters()), "lr": bc["lr_encoder"]}]
        groups.append({"params": list(self.model.decoder_parameters()), "lr": bc["lr_decoder"]})
        return torch.optim.Adam(groups, betas=(0.9, 0.999))

    def group_lrs(self, step: int) -> list[float] | None:
        from modeling.jddc.summary.bertsum import noam

        if self.method == "pg":
            return [self.cfg["train"]["lr"]]
        bc = self.cfg["bertsum"]
        return [noam(step + 1, bc["lr_encoder"], bc["warmup_encoder"]), noam(step + 1, bc["lr_decoder"], bc["warmup_decoder"])]

    def collate(self, chunk: list) -> dict:
        return _collate(chunk, self.tok, self.device, self.image_dim)

    @staticmethod
    def batch_size(batch: dict) -> int:
        return int(batch["src"].shape[0])

    def validate(self, wrapped, epoch: int):
        if not self.valid_x:
            return {}, None
        hyps = generate(self.method, self.model, self.valid_x, self.enc_valid, self.tok, self.cfg, self.device, self.image_dim)
        scores = _rouge(hyps, [x.summary for x in self.valid_x])
        return {f"valid_{k}": v for k, v in scores.items()}, sum(scores.values()) / len(scores)


def _train_neural(method, cfg, seed, folder, train_x, valid_x, filt, device, log) -> dict:
    from modeling.core.loop import Distributed, fit, loss_of
    from modeling.core.seeding import seed_everything
    from modeling.jddc.tokenizer import build_tokenizer

    mode = cfg["summary"]["trivial"]
    pretrained = cfg["model"]["pretrained"] if method == "bertsum" else None
    texts = [t.text for x in train_x for t in x.turns] + [x.summary for x in train_x]
    tok = build_tokenizer(pretrained, texts)
    tok.save(folder)
    vectors = _vectors(cfg, cfg["data"], folder, device) if method == "bertsum" else None
    image_dim = vectors.dim if vectors else 0
    enc_train = _encode_all(train_x, mode, filt, tok, cfg, vectors, True)
    if method == "bertsum":  # no copying: targets stay in the vocabulary ([UNK] for unseen characters)
        for e in enc_train:
            e["tgt_ext"] = e["tgt"]
    enc_valid = _encode_all(valid_x, mode, filt, tok, cfg, vectors, False)
    seed_everything(seed, cfg.get("deterministic", True))  # after the data set-up, which may draw random numbers of its own
    model = _build_model(method, cfg, tok, image_dim).to(device)
    task = SummaryTrainable(method, cfg, seed, model, enc_train, valid_x, enc_valid, tok, device, image_dim)
    fit(task, loss_of(model), cfg, folder, device, seed, Distributed(device), log)
    return {"vocab_size": tok.vocab_size, "image_dim": image_dim, "pretrained": pretrained}


# -- evaluation -------------------------------------------------------------------------------
def _load(folder: str) -> tuple[dict, dict, TrivialFilter]:
    import yaml

    with open(os.path.join(folder, "config.yaml"), encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    with open(os.path.join(folder, RUN_FILE), encoding="utf-8") as fh:
        run = json.load(fh)
    with open(os.path.join(folder, TRIVIAL_FILE), encoding="utf-8") as fh:
        filt = TrivialFilter.from_json(json.load(fh))
    return cfg, run, filt


def summarise(folder: str, examples: list[SummaryExample], device: str = "auto", data: str | None = None) -> list[str]:
    """The run's summary of each example."""
    cfg, run, filt = _load(folder)
    method, mode = run["method"], run["trivial"]
    if method == "lead":
        from modeling.jddc.summary.extractive import lead

        return [lead(plain_text(kept_turns(x, mode, filt)), run["lead_chars"]) for x in examples]
    if method == "lexrank":
        from modeling.jddc.summary.extractive import lexrank

        units = cfg["summary"]["lexrank_units"]
        return [lexrank([t.text for t in kept_turns(x, mode, filt) if t.text], run["lead_chars"], units) for x in examples]
    from modeling.core.loop import loss_of
    from modeling.jddc.tokenizer import load_run_tokenizer
    from modeling.train import checkpoint
    from modeling.train.device import pick_device

    dev = pick_device(device)
    tok = load_run_tokenizer(folder, run.get("pretrained"))
    vectors = _vectors(cfg, data or cfg["data"], folder, dev) if method == "bertsum" else None
    model = _build_model(method, cfg, tok, run["image_dim"]).to(dev)
    checkpoint.load(checkpoint.chosen(folder), loss_of(model), None, dev)
    encoded = _encode_all(examples, mode, filt, tok, cfg, vectors, False)
    return generate(method, model, examples, encoded, tok, cfg, dev, run["image_dim"])


def evaluate_seed(folder: str, split: str = "test", data: str | None = None, device: str = "auto") -> dict:
    cfg, run, _ = _load(folder)
    data = data or cfg["data"]
    examples = summary_examples(data, split)
    if not examples:
        raise ValueError(f"{data}: no annotated summary sessions in split {split!r}")
    hyps = summarise(folder, examples, device, data)
    refs = [x.summary for x in examples]
    with open(os.path.join(folder, f"predictions-{split}.jsonl"), "w", encoding="utf-8") as fh:
        for x, h in zip(examples, hyps, strict=True):
            fh.write(json.dumps({"dialog_id": x.dialog_id, "reference": x.summary, "summary": h}, ensure_ascii=False) + "\n")
    return {"rouge": _rouge(hyps, refs), "sessions": len(examples), "method": run["method"], "multimodal": run["multimodal"]}
