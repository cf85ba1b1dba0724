"""From samples to tensors: MESE's interleaved sequences, candidate slots and attention masks.

A sample's sequence is the context turns, each `[USER]|[SYSTEM] words [ITEM]...` (one `[ITEM]`
slot per item the turn mentions, filled with that item's ITE by the model: Figure 2), then the
target turn `[SYSTEM] [REC] [ITEM]... words [EOS]` (`[REC]` and the recommended items' slots only
when the turn recommends). The language loss covers `[REC]` (or the first word, which teaches
when not to recommend), the words and `[EOS]`; `D_R` is the output at `[REC]`. Ranking candidates
are appended after the sequence: each sees the prefix up to `[REC]` and itself, none sees the
others, all share the position right after `[REC]` (section 3.2.2), so one forward pass serves
all three losses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modeling.mese.data import Items, Sample, Split
from modeling.mese.tokens import Tok


@dataclass
class SeqSpec:
    max_context_tokens: int = 256
    max_response_tokens: int = 48
    max_item_tokens: int = 64
    context_items: bool = True  # False: the context turns carry no [ITEM] slots (MESE w/o item, Table 7)


def item_token_matrix(items: Items, tok: Tok, max_len: int, content: bool) -> tuple[np.ndarray, np.ndarray]:
    """[n_items, max_len] ids and mask of each item's `[SEP]`-joined metadata."""
    ids = np.full((len(items), max_len), tok.pad, dtype=np.int64)
    mask = np.zeros((len(items), max_len), dtype=np.int64)
    for i in range(len(items)):
        t = tok.encode(items.text(i, content))[:max_len] or [tok.unk]
        ids[i, : len(t)] = t
        mask[i, : len(t)] = 1
    return ids, mask


class TurnCache:
    """Each turn's token ids, encoded once."""

    def __init__(self, split: Split, tok: Tok):
        self.tok = tok
        self.ids = [[tok.encode(t.templated) for t in turns] for turns in split.dialogs]


@dataclass
class Built:
    tokens: list[int]
    slots: list[int]  # item index at [ITEM] positions, -1 elsewhere
    targets: list[int]  # the token to predict at this position (from the previous one), -100 none
    rec_pos: int  # position of [REC], -1 none


def build_sequence(split: Split, cache: TurnCache, s: Sample, spec: SeqSpec, with_target: bool = True, force_rec: bool = False) -> Built:
    """The context of sample `s`, then `[SYSTEM]`; with `with_target` the target turn follows
    (teacher forcing); with `force_rec` (inference of a labelled recommendation turn) `[REC]` ends it."""
    tok = cache.tok
    turns = split.dialogs[s.dialog]
    toks: list[int] = []
    slots: list[int] = []
    for j in range(s.turn):
        t = turns[j]
        mentioned = list(t.items) if spec.context_items else []
        part = [tok.user if t.speaker == "user" else tok.system] + cache.ids[s.dialog][j] + [tok.item] * len(mentioned)
        toks += part
        slots += [-1] * (len(part) - len(mentioned)) + mentioned
    if len(toks) > spec.max_context_tokens:
        toks, slots = toks[-spec.max_context_tokens :], slots[-spec.max_context_tokens :]
    targets = [-100] * len(toks)
    toks.append(tok.system)
    slots.append(-1)
    targets.append(-100)
    target = turns[s.turn]
    rec_pos = -1
    if (with_target and target.items) or force_rec:
        rec_pos = len(toks)
        toks.append(tok.rec)
        slots.append(-1)
        targets.append(tok.rec)
    if with_target:
        if target.items:
            toks += [tok.item] * len(target.items)
            slots += list(target.items)
            targets += [-100] * len(target.items)
        words = cache.ids[s.dialog][s.turn][: spec.max_response_tokens] + [tok.eos]
        toks += words
        slots += [-1] * len(words)
        targets += words
    return Built(toks, slots, targets, rec_pos)


def collate(built: list[Built], candidates: list[list[int]], positives: list[list[int]], pad: int, item: int) -> dict:
    """Pad sequences, append candidate slots, build the 4D mask and the (sample, positive) pairs.

    `candidates[b]` are item indices to rank for sample b (empty when it does not recommend);
    `positives[b]` those among them that are ground truth: one cross-entropy term per positive,
    with the sample's other positives left out of its denominator."""
    import torch

    B = len(built)
    S = max(len(x.tokens) for x in built)
    C = max((len(c) for c in candidates), default=0)
    L = S + C
    ids = torch.full((B, L), pad, dtype=torch.long)
    slots = torch.full((B, L), -1, dtype=torch.long)
    targets = torch.full((B, L), -100, dtype=torch.long)
    pos = torch.zeros((B, L), dtype=torch.long)
    allowed = torch.zeros((B, L, L), dtype=torch.bool)
    cand = torch.full((B, C), -1, dtype=torch.long)
    rec_pos = torch.full((B,), -1, dtype=torch.long)
    causal = torch.tril(torch.ones(S, S, dtype=torch.bool))
    pair_b, pair_c, pair_mask = [], [], []
    for b, x in enumerate(built):
        n = len(x.tokens)
        ids[b, :n] = torch.tensor(x.tokens)
        slots[b, :n] = torch.tensor(x.slots)
        targets[b, :n] = torch.tensor(x.targets)
        pos[b, :n] = torch.arange(n)
        allowed[b, :S, :S] = causal
        allowed[b, :, n:S] = False
        rec_pos[b] = x.rec_pos
        cb = candidates[b]
        if cb:
            cand[b, : len(cb)] = torch.tensor(cb)
            ids[b, S : S + len(cb)] = item
            slots[b, S : S + len(cb)] = torch.tensor(cb)
            pos[b, S:] = x.rec_pos + 1
            allowed[b, S:, : x.rec_pos + 1] = True
            gts = set(positives[b])
            for j, c in enumerate(cb):
                if c in gts:
                    m = torch.tensor([k < len(cb) and (k == j or cb[k] not in gts) for k in range(C)])
                    pair_b.append(b)
                    pair_c.append(j)
                    pair_mask.append(m)
        idx = torch.arange(L)
        allowed[b, idx, idx] = True  # every query sees itself (padding rows too: no empty softmax)
    if C:
        allowed[:, S:, S:] &= torch.eye(C, dtype=torch.bool)  # candidates never see each other
    return {
        "input_ids": ids,
        "slots": slots,
        "targets": targets,
        "position_ids": pos,
        "allowed": allowed.unsqueeze(1),
        "rec_pos": rec_pos,
        "cand": cand,
        "cand_start": S,
        "pair_b": torch.tensor(pair_b, dtype=torch.long),
        "pair_c": torch.tensor(pair_c, dtype=torch.long),
        "pair_mask": torch.stack(pair_mask) if pair_mask else torch.zeros((0, C), dtype=torch.bool),
    }


class TrainBatches:
    """Shuffled batches of one epoch; M negatives sampled from the whole item database per batch
    (shared by its samples; a sample's own positives are never its negatives)."""

    def __init__(
        self, split: Split, cache: TurnCache, spec: SeqSpec, n_items: int, batch_size: int, negatives: int, rank: int = 0, world: int = 1
    ):
        self.split, self.cache, self.spec = split, cache, spec
        self.n_items, self.batch_size, self.negatives = n_items, batch_size, min(negatives, n_items - 1)
        share = split.samples[rank::world]
        per_rank = -(-len(split.samples) // world)  # equal shares, so every DDP rank takes the same steps
        self.samples = (share * 2)[:per_rank] if share else []

    def steps(self) -> int:
        return -(-len(self.samples) // self.batch_size)

    def epoch(self, seed: int, epoch: int, skip: int = 0):
        """The epoch's batches from batch `skip` on (the negatives of skipped batches are still drawn,
        so a resumed epoch continues the uninterrupted one's random stream)."""
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(self.samples))
        tok = self.cache.tok
        for start in range(0, len(order), self.batch_size):
            chunk = [self.samples[k] for k in order[start : start + self.batch_size]]
            negs = rng.choice(self.n_items, size=self.negatives, replace=False).tolist()
            if start // self.batch_size < skip:
                continue
            built, cands, poss = [], [], []
            for s in chunk:
                b = build_sequence(self.split, self.cache, s, self.spec)
                gts = list(dict.fromkeys(self.split.dialogs[s.dialog][s.turn].items))
                built.append(b)
                cands.append(gts + [n for n in negs if n not in gts] if gts else [])
                poss.append(gts)
            yield collate(built, cands, poss, tok.pad, tok.item)
