"""Examples -> token id arrays and batches.

A context + query reads `[CLS] [USR|SYS] turn ... [SEP] [USR] query ... [SEP]`: each turn starts
with its speaker mark, an image message is the [IMG] token (text-only models see that an image
was sent, not what it shows), the most recent `loader.context_turns` context turns are kept and
the sequence is cut from the left (oldest first) to `loader.max_context_tokens`, the query end
always kept. Targets are cut to `loader.max_target_tokens` and end with [EOS].
"""

from __future__ import annotations

import numpy as np

from modeling.jddc.data import Example, Turn


def turn_ids(tok, turn: Turn) -> list[int]:
    body = tok.encode(turn.text) if turn.text else ([tok.img_id] if turn.image_ids else [])
    return [tok.usr_id if turn.user else tok.sys_id, *body]


def prefix_ids(tok, ex: Example, lc: dict) -> list[int]:
    ctx = [i for t in ex.context[-lc["context_turns"] :] for i in turn_ids(tok, t)] if lc["context_turns"] else []
    query = [i for t in ex.query for i in turn_ids(tok, t)]
    body = ctx + [tok.sep_id] + query + [tok.sep_id]
    room = lc["max_context_tokens"] - 1
    return [tok.cls_id] + body[-room:]


def target_ids(tok, text: str, lc: dict) -> list[int]:
    return tok.encode(text)[: lc["max_target_tokens"]] + [tok.eos_id]


def pad(seqs: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max((len(s) for s in seqs), default=1) or 1
    ids = np.full((len(seqs), width), pad_id, np.int64)
    mask = np.zeros((len(seqs), width), np.int64)
    for k, s in enumerate(seqs):
        ids[k, : len(s)] = s
        mask[k, : len(s)] = 1
    return ids, mask


def lm_batch(tok, prefixes: list[list[int]], targets: list[list[int]], image_rows: np.ndarray) -> dict:
    """GPT batch: prefix + target, loss on the target only (labels -100 elsewhere)."""
    import torch

    seqs = [p + t for p, t in zip(prefixes, targets, strict=True)]
    ids, mask = pad(seqs, tok.pad_id)
    labels = np.full(ids.shape, -100, np.int64)
    for k, (p, t) in enumerate(zip(prefixes, targets, strict=True)):
        labels[k, len(p) : len(p) + len(t)] = t
    return {
        "ids": torch.from_numpy(ids),
        "mask": torch.from_numpy(mask),
        "labels": torch.from_numpy(labels),
        "image_rows": torch.from_numpy(image_rows),
    }


def text_batch(tok, prefixes: list[list[int]], image_rows: np.ndarray, labels: list[int] | None = None) -> dict:
    import torch

    ids, mask = pad(prefixes, tok.pad_id)
    out = {"ids": torch.from_numpy(ids), "mask": torch.from_numpy(mask), "image_rows": torch.from_numpy(image_rows)}
    if labels is not None:
        out["label"] = torch.tensor(labels, dtype=torch.long)
    return out
