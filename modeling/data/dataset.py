"""Streaming datasets over `rec_samples`: training batches with sampled candidates, evaluation
batches with each turn's full candidate list.

Both read the split's Parquet files record batch by record batch (pyarrow), encode the context
of only those rows (tokens of the last `context_turns` merged turns, rows of the last
`max_images` images in the feature matrix), and look products and states up in the compact
arrays of `Catalogue` and `StateIndex`. They yield whole batches (dicts of tensors) so a
DataLoader runs them with `batch_size=None` and any number of workers; work is divided across
DDP ranks and loader workers by record batch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from torch.utils.data import IterableDataset

from modeling.core.seeding import derive_seed
from modeling.data import tables
from modeling.data.catalogue import Catalogue, ImageFeatures, lookup
from modeling.data.states import StateIndex, dp_fraction
from modeling.data.text import tokenize

REC_COLUMNS = ["sample_id", "dialog_id", "turn_index", "context", "positive_ids", "negative_ids"]


@dataclass
class ContextSpec:
    turns: int = 5
    tokens: int = 30
    max_images: int = 5
    images_per_turn: int = 5

    @classmethod
    def from_config(cls, loader: dict) -> ContextSpec:
        return cls(loader["context_turns"], loader["max_tokens"], loader["max_images"], loader["images_per_turn"])


def encode_contexts(context_col: pa.Array, tokenizer, features: ImageFeatures, spec: ContextSpec) -> dict[str, np.ndarray]:
    """Right-aligned context arrays for one record batch (the latest turn is at index turns-1).

    tokens [B, T, L] int32, turn_mask [B, T] bool, image_rows [B, T, I] int64 (-1: none).
    """
    contexts = context_col.to_pylist()
    b, t, i_max = len(contexts), spec.turns, spec.images_per_turn
    texts, where, image_ids, image_where = [], [], [], []
    turn_mask = np.zeros((b, t), bool)
    for s, ctx in enumerate(contexts):
        turns = (ctx or [])[-t:] or [{"text": "", "image_ids": []}]
        offset = t - len(turns)
        budget = spec.max_images
        for j in range(len(turns) - 1, -1, -1):  # newest first, so the image budget keeps the latest
            turn = turns[j]
            slot = offset + j
            turn_mask[s, slot] = True
            texts.append(turn.get("text") or "")
            where.append((s, slot))
            ids = (turn.get("image_ids") or [])[-i_max:]
            ids = ids[-budget:] if budget > 0 else []
            budget -= len(ids)
            for k, img in enumerate(ids):
                image_ids.append(img)
                image_where.append((s, slot, k))
    tokens = np.zeros((b, t, spec.tokens), np.int32)
    if texts:
        enc = tokenize(tokenizer, texts, spec.tokens)
        rows, cols = zip(*where, strict=False)
        tokens[list(rows), list(cols)] = enc
    image_rows = np.full((b, t, i_max), -1, np.int64)
    if image_ids:
        found = lookup(image_ids, features.ids)
        a, c, k = (np.asarray(x) for x in zip(*image_where, strict=False))
        image_rows[a, c, k] = found
    return {"tokens": tokens, "turn_mask": turn_mask, "image_rows": image_rows}


def _list_rows(col: pa.Array, catalogue: Catalogue) -> list[np.ndarray]:
    """Catalogue rows of each list of product ids (missing ids come back as -1)."""
    flat = pc.list_flatten(col)
    offsets = col.offsets.to_numpy()
    rows = catalogue.rows(flat) if len(flat) else np.zeros(0, np.int64)
    start = offsets[0]
    return [rows[offsets[i] - start : offsets[i + 1] - start] for i in range(len(col))]


def _state_arrays(sample_ids: pa.Array, states: StateIndex | None, n: int, split_is_train: bool):
    n_slots = len(states.slot_keys) if states else 0
    values = np.zeros((n, n_slots), np.int64)
    has_state = np.zeros(n, bool)
    if states is not None and len(states.sample_ids):
        rows = lookup(sample_ids, states.sample_ids)
        ok = rows >= 0
        values[ok] = states.value_idx[rows[ok]]
        has_state = ok & states.in_df[np.where(ok, rows, 0)] if split_is_train else ok
    return values, has_state


@dataclass
class StreamStats:
    samples: int = 0
    skipped_no_positive: int = 0
    missing_candidates: int = 0


@dataclass
class RecStream:
    """Shared set-up of the training and evaluation streams."""

    root: str
    split: str
    catalogue: Catalogue
    features: ImageFeatures
    tokenizer: object
    spec: ContextSpec
    states: StateIndex | None = None
    read_rows: int = 256
    rank: int = 0
    world: int = 1
    stats: StreamStats = field(default_factory=StreamStats)

    def files(self) -> list[str]:
        return tables.require_files(self.root, "rec_samples", self.split)

    def num_samples(self) -> int:
        return tables.count_rows(self.files())

    def _record_batches(self, order_seed: int | None, split_workers: bool = True):
        """This rank's share of the record batches, and (with `split_workers`) this loader worker's."""
        import torch.utils.data as tud

        info = tud.get_worker_info()
        workers, worker = (info.num_workers, info.id) if info and split_workers else (1, 0)
        shares, share = self.world * workers, self.rank * workers + worker
        files = self.files()
        if order_seed is not None:
            random.Random(order_seed).shuffle(files)
        for i, batch in enumerate(tables.iter_batches(files, REC_COLUMNS, self.read_rows)):
            if i % shares == share:
                yield batch

    def _encode(self, batch: pa.RecordBatch) -> dict[str, np.ndarray]:
        out = encode_contexts(batch.column("context"), self.tokenizer, self.features, self.spec)
        values, has_state = _state_arrays(batch.column("sample_id"), self.states, len(batch), self.split == "train")
        out["state_values"] = values
        out["has_state"] = has_state
        return out


def _take(arrays: dict[str, np.ndarray], idx) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in arrays.items()}


def _to_torch(arrays: dict[str, np.ndarray]) -> dict:
    import torch

    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


class TrainStream(RecStream, IterableDataset):
    """Batches of (context, 1 positive, n sampled negatives); `epoch_batches(e, n)` yields exactly n
    batches of this rank for epoch e, deterministically from (seed, epoch, rank)."""

    def __init__(
        self, *args, batch_size: int = 64, negatives: int = 4, shuffle_buffer: int = 4096, seed: int = 0, dp_ratio: float = 1.0, **kw
    ):
        super().__init__(*args, **kw)
        self.dp_ratio = dp_ratio
        self._count: int | None = None
        self.batch_size = batch_size
        self.negatives = negatives
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self.epoch = 0
        self.quota = 0
        self.skip = 0

    def num_samples(self) -> int:
        """Training samples after the D_P subset (`dp_ratio`)."""
        if self.dp_ratio >= 1.0:
            return super().num_samples()
        if self._count is None:
            cols = tables.read_columns(self.files(), ["sample_id", "dialog_id"])
            self._count = int(self._keep(cols.column("sample_id"), cols.column("dialog_id")).sum())
        return self._count

    def _keep(self, sample_ids, dialog_ids) -> np.ndarray:
        """Rows that train: every D_F sample, and D_P samples of the dialogs selected by dp_ratio."""
        n = len(sample_ids)
        if self.dp_ratio >= 1.0:
            return np.ones(n, bool)
        _, in_df = _state_arrays(sample_ids, self.states, n, True)
        chosen = np.asarray([dp_fraction(d) < self.dp_ratio for d in dialog_ids.to_pylist()], bool)
        return in_df | chosen

    def steps_per_epoch(self) -> int:
        return max(1, self.num_samples() // (self.batch_size * self.world))

    def set_epoch(self, epoch: int, quota: int, skip: int = 0) -> None:
        """Yield batches `skip` .. `quota` - 1 of `epoch` (a resumed run skips the ones it trained on)."""
        self.epoch, self.quota, self.skip = epoch, quota, skip

    def __iter__(self):
        """This rank's batches of the epoch, the same whatever the number of loader workers: every
        worker draws the rank's whole batch sequence (sampling only: row references and candidate
        rows) and encodes and yields batches k, k + W, k + 2W, ... from `skip` on; the DataLoader
        takes one batch from each worker in turn, so it yields the sequence in order."""
        import torch.utils.data as tud

        info = tud.get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        k = 0
        pass_no = 0
        while k < self.quota:
            produced = 0
            for plan in self._batch_plans(pass_no):
                if k >= self.skip and (k - self.skip) % workers == worker:
                    yield self._materialise(plan)
                k += 1
                produced += 1
                if k >= self.quota:
                    return
            pass_no += 1
            if produced == 0:
                raise tables.DataError(f"{self.root}: no usable training samples in split {self.split!r} for this rank")

    def _batch_plans(self, pass_no: int):
        """Batches as plans: ({record batch number: batch}, per sample its record batch, row in it,
        positive row and negative rows); drawn from (seed, epoch, pass, rank) only, through a
        shuffle buffer. Only the record batches the buffer still points into are held."""
        rng = np.random.default_rng([self.seed, self.epoch, pass_no, self.rank])
        order_seed = derive_seed(self.seed, self.epoch, pass_no)  # never hash(): it varies per process for strings
        held: dict[int, pa.RecordBatch] = {}  # the record batches samples in the buffer still point into
        buffer: list[dict[str, np.ndarray]] = []
        buffered = 0

        def plan(picked: dict[str, np.ndarray]):
            return {int(b): held[int(b)] for b in np.unique(picked["batch"])}, picked

        for batch_no, batch in enumerate(self._record_batches(order_seed, split_workers=False)):
            held[batch_no] = batch
            buffer.append(self._samples(batch, rng, batch_no))
            buffered += len(buffer[-1]["pos_row"])
            while buffered >= self.shuffle_buffer + self.batch_size:
                pool = _concat(buffer)
                perm = rng.permutation(len(pool["pos_row"]))
                yield plan(_take(pool, perm[: self.batch_size]))
                buffer = [_take(pool, perm[self.batch_size :])]
                buffered -= self.batch_size
                live = set(np.unique(buffer[0]["batch"]).tolist())
                held = {b: rb for b, rb in held.items() if b in live or b == batch_no}
        if buffered:
            pool = _concat(buffer)
            perm = rng.permutation(len(pool["pos_row"]))
            for s in range(0, len(perm) - self.batch_size + 1, self.batch_size):
                yield plan(_take(pool, perm[s : s + self.batch_size]))

    def _materialise(self, plan) -> dict:
        """Encode the contexts of a planned batch's rows (the costly part, done by one worker)."""
        record_batches, picked = plan
        parts = []
        for b in np.unique(picked["batch"]):
            where = np.flatnonzero(picked["batch"] == b)
            parts.append((where, self._encode(record_batches[b].take(pa.array(picked["row"][where])))))
        enc = {k: np.empty((len(picked["row"]), *v.shape[1:]), v.dtype) for k, v in parts[0][1].items()}
        for where, part in parts:
            for k, v in part.items():
                enc[k][where] = v
        enc["pos_row"] = picked["pos_row"]
        enc["neg_rows"] = picked["neg_rows"]
        return _to_torch(enc)

    def _samples(self, batch: pa.RecordBatch, rng, batch_no: int = 0) -> dict[str, np.ndarray]:
        """The trained rows of a record batch (`row`, and `batch` = `batch_no`) with their sampled
        positive and negative catalogue rows; contexts are encoded later, by `_materialise`."""
        pos_lists = _list_rows(batch.column("positive_ids"), self.catalogue)
        neg_lists = _list_rows(batch.column("negative_ids"), self.catalogue)
        keep, pos_row, neg_rows = [], [], []
        n_cat = len(self.catalogue)
        trains = self._keep(batch.column("sample_id"), batch.column("dialog_id"))
        for i, (pos, neg) in enumerate(zip(pos_lists, neg_lists, strict=False)):
            if not trains[i]:
                continue
            pos = pos[pos >= 0]
            neg = neg[(neg >= 0) & ~np.isin(neg, pos)]  # a listed negative that is also a positive never trains as one
            if len(pos) == 0:
                self.stats.skipped_no_positive += 1
                continue
            if len(neg) == 0:  # no listed negative: sample catalogue products that are not positives
                cand = rng.integers(0, n_cat, self.negatives * 4)
                neg = cand[~np.isin(cand, pos)]
                if len(neg) == 0:
                    self.stats.skipped_no_positive += 1
                    continue
            keep.append(i)
            pos_row.append(rng.choice(pos))
            neg_rows.append(rng.choice(neg, self.negatives, replace=len(neg) < self.negatives))
        self.stats.samples += len(keep)
        return {
            "batch": np.full(len(keep), batch_no, np.int64),
            "row": np.asarray(keep, np.int64),
            "pos_row": np.asarray(pos_row, np.int64),
            "neg_rows": np.asarray(neg_rows, np.int64).reshape(len(keep), self.negatives),
        }


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


class EvalStream(RecStream, IterableDataset):
    """Batches of turns with their full candidate list: `cand_rows` [B, C] (catalogue rows, -1 pad),
    `cand_pos` [B, C] bool, `cand_valid` [B, C] bool. Candidates missing from the catalogue are
    counted in `stats.missing_candidates`; turns left without a positive are skipped and counted."""

    def __init__(self, *args, batch_size: int = 32, max_turns: int = 0, **kw):
        super().__init__(*args, **kw)
        self.batch_size = batch_size
        self.max_turns = max_turns

    def __iter__(self):
        pending: list[dict[str, np.ndarray]] = []
        count = 0
        emitted = 0
        for batch in self._record_batches(None):
            if self.max_turns and emitted >= self.max_turns:
                break
            part = self._turns(batch)
            if self.max_turns:
                room = self.max_turns - emitted
                part = {k: (v[:room] if not isinstance(v, list) else v[:room]) for k, v in part.items()}
            n = len(part["cands"])
            emitted += n
            pending.append(part)
            count += n
            while count >= self.batch_size:
                merged = _merge_eval(pending)
                yield _pad_eval(_slice_eval(merged, 0, self.batch_size))
                rest = _slice_eval(merged, self.batch_size, None)
                pending, count = [rest], len(rest["cands"])
        if count:
            yield _pad_eval(_merge_eval(pending))

    def _turns(self, batch: pa.RecordBatch) -> dict:
        pos_lists = _list_rows(batch.column("positive_ids"), self.catalogue)
        neg_lists = _list_rows(batch.column("negative_ids"), self.catalogue)
        keep, cands = [], []
        for i, (pos, neg) in enumerate(zip(pos_lists, neg_lists, strict=False)):
            self.stats.missing_candidates += int((pos < 0).sum() + (neg < 0).sum())
            pos, neg = pos[pos >= 0], neg[neg >= 0]
            if len(pos) == 0:
                self.stats.skipped_no_positive += 1
                continue
            keep.append(i)
            cands.append((pos, neg))
        enc = _take(self._encode(batch), np.asarray(keep, np.int64))
        enc["cands"] = cands
        enc["sample_id"] = [batch.column("sample_id")[i].as_py() for i in keep]
        self.stats.samples += len(keep)
        return enc


def _merge_eval(parts: list[dict]) -> dict:
    out = {}
    for k in parts[0]:
        if isinstance(parts[0][k], list):
            out[k] = [x for p in parts for x in p[k]]
        else:
            out[k] = np.concatenate([p[k] for p in parts])
    return out


def _slice_eval(d: dict, a: int, b: int | None) -> dict:
    return {k: v[a:b] for k, v in d.items()}


def _pad_eval(d: dict) -> dict:
    import torch

    cands = d.pop("cands")
    sample_ids = d.pop("sample_id")
    width = max(len(p) + len(n) for p, n in cands)
    rows = np.full((len(cands), width), -1, np.int64)
    pos = np.zeros((len(cands), width), bool)
    for i, (p, n) in enumerate(cands):
        rows[i, : len(p)] = p
        rows[i, len(p) : len(p) + len(n)] = n
        pos[i, : len(p)] = True
    out = _to_torch(d)
    out["cand_rows"] = torch.from_numpy(rows)
    out["cand_pos"] = torch.from_numpy(pos)
    out["cand_valid"] = torch.from_numpy(rows >= 0)
    out["sample_id"] = sample_ids
    return out
