"""Ranking metrics over each turn's full candidate list, with LARCH's definitions.

LARCH (SparkJiao/LARCH `eval_metric.py`, `eval.py`) sorts each turn's candidates by score, turns
the order into a binary relevance list r (r_i = 1 when the i-th ranked candidate is a positive)
and computes, for k in {5, 10, 20}:

- **P@k** (precision at k) = (number of positives among the top k) / k.
  LARCH computes `mean(r[:k])` over a list padded to 1,012 entries with non-relevant padding,
  so the denominator is always k; lists shorter than k are padded here the same way.
- **R@k** (recall at k) = (number of positives among the top k) / (number of positives in the list);
  0 for a list without positives.
- **NDCG@k** = DCG@k / IDCG@k with DCG@k = sum_{i=1..k} r_i / log2(i + 1) (`dcg_at_k`, method 1)
  and IDCG@k the DCG@k of the ideal order (all positives first); 0 when there is no positive.

Each metric is averaged over turns (every turn weighs the same).

Ties: here they are broken *pessimistically* (among equal scores, negatives rank before
positives), so no model can gain from ties; NaN counts as -inf. This is the default evaluation
(`mmdial evaluate --eval-mode mmdial`).

**LARCH mode** (`--eval-mode larch`, `larch_turn_relevance` and `LarchAccumulator`) reproduces
LARCH's test loop (`evaluator_graph.py`, `datasets/eval_dataset.py`, `eval.py`) for comparison
with numbers reported that way, such as the paper's MMD-v2 tables:
- each turn keeps its first 12 positives and first 1,000 negatives (in stored order), padded to
  1,012 entries scored -10000 (LARCH removes padding by that score, so padding ranks last);
  a turn with no padding (12 positives and 1,000 negatives) is scored as it is (LARCH's
  `all_scores[b, -pad_len:] = torch.zeros(pad_len)...` raises for pad_len 0, since `-0:` selects
  the whole row and a 0-length tensor cannot fill it, so LARCH's code cannot evaluate such a turn);
- the order is `numpy.argsort(-scores)` on float32 (numpy's default introsort: not stable, so
  the order among equal scores depends on the array and the numpy build; it does not favour
  positives: with 4 positives stored first among 500 equal scores, numpy 2.2 puts them at
  0-based ranks 57, 58, 59 and 499); relevance is by position (a negative equal to a positive
  counts as a negative, LARCH keeps such negatives);
- metrics are averaged per batch of 20 turns, then over batches (a smaller last batch weighs
  as much as a full one).
Turns without a positive are skipped in both modes (counted in `skipped_turns_no_positive`);
mmdial builds already drop negatives that equal a positive (pipelines/mmd/transforms.py).
"""

from __future__ import annotations

import functools
import math

import numpy as np

KS = (5, 10, 20)
METRIC_NAMES = tuple(f"{m}@{k}" for k in KS for m in ("P", "R", "NDCG"))
DEFINITIONS = {
    "P@k": "positives among the top k / k (LARCH precision_at_k over a padded list)",
    "R@k": "positives among the top k / positives in the candidate list (LARCH recall_at_k)",
    "NDCG@k": "sum_{i<=k} r_i/log2(i+1) divided by the same sum for the ideal order (LARCH ndcg_at_k, method 1)",
}


# -- reference implementation (one list at a time, readable; the golden tests pin it) ----------
def binary_relevance(scores: list[float], positive: list[bool]) -> list[int]:
    """r: 1/0 per rank position, best score first, ties broken against the positives."""
    order = sorted(range(len(scores)), key=lambda i: (-_finite(scores[i]), bool(positive[i])))
    return [1 if positive[i] else 0 for i in order]


def precision_at_k(r: list[int], k: int) -> float:
    return sum(r[:k]) / k


def recall_at_k(r: list[int], k: int) -> float:
    total = sum(r)
    return sum(r[:k]) / total if total else 0.0


def dcg_at_k(r: list[int], k: int) -> float:
    return sum(rel / math.log2(i + 2) for i, rel in enumerate(r[:k]))


def ndcg_at_k(r: list[int], k: int) -> float:
    ideal = dcg_at_k(sorted(r, reverse=True), k)
    return dcg_at_k(r, k) / ideal if ideal else 0.0


def turn_metrics(scores: list[float], positive: list[bool], ks=KS) -> dict[str, float]:
    r = binary_relevance(scores, positive)
    out = {}
    for k in ks:
        out[f"P@{k}"] = precision_at_k(r, k)
        out[f"R@{k}"] = recall_at_k(r, k)
        out[f"NDCG@{k}"] = ndcg_at_k(r, k)
    return out


def _finite(x: float) -> float:
    return -math.inf if x != x else x  # NaN -> -inf


# -- random ranking: the exact expectation ------------------------------------------------------
def random_expectation(num_candidates: int, num_positives: int, ks=KS) -> dict[str, float]:
    """Expected metrics of a uniformly random order of one list (exact, by linearity: every rank
    position holds a positive with probability p/n)."""
    n, p = num_candidates, num_positives
    out = {}
    for k in ks:
        m = min(k, n)
        q = p / n if n else 0.0
        out[f"P@{k}"] = m * q / k
        out[f"R@{k}"] = m / n if (n and p) else 0.0
        ideal = sum(1 / math.log2(i + 2) for i in range(min(p, k)))
        out[f"NDCG@{k}"] = (q * sum(1 / math.log2(i + 2) for i in range(m)) / ideal) if ideal else 0.0
    return out


# -- vectorised implementation (torch; padded batches, CPU or GPU) -------------------------------
def batch_metrics(scores, positive, valid, ks=KS):
    """Per-turn metrics for a padded batch.

    scores [B, C] float, positive [B, C] bool, valid [B, C] bool (False = padding).
    Returns {name: tensor [B]}. Agrees with `turn_metrics` on every row (tested).
    """
    import torch

    scores = torch.nan_to_num(scores.float(), nan=-math.inf)
    pos = positive & valid
    # Stable sorts from the least to the most significant key: label ascending (ties against the
    # positives), then score descending, then real candidates before padding.
    order = torch.argsort(pos.to(torch.int8), dim=1, stable=True)
    s = torch.gather(scores, 1, order)
    order = torch.gather(order, 1, torch.argsort(s, dim=1, descending=True, stable=True))
    v = torch.gather(valid, 1, order)
    order = torch.gather(order, 1, torch.argsort(v.to(torch.int8), dim=1, descending=True, stable=True))
    r = torch.gather(pos, 1, order).float()
    n_pos = pos.sum(1).float()
    width = r.shape[1]
    kmax = max(ks)
    if width < kmax:
        r = torch.nn.functional.pad(r, (0, kmax - width))
    disc = 1.0 / torch.log2(torch.arange(2, kmax + 2, device=r.device, dtype=torch.float32))
    hits = torch.cumsum(r[:, :kmax], 1)
    dcg = torch.cumsum(r[:, :kmax] * disc, 1)
    ideal_cum = torch.cumsum(disc, 0)
    out = {}
    for k in ks:
        h = hits[:, k - 1]
        out[f"P@{k}"] = h / k
        out[f"R@{k}"] = torch.where(n_pos > 0, h / n_pos.clamp(min=1), torch.zeros_like(h))
        idx = (n_pos.clamp(max=k).long() - 1).clamp(min=0)
        ideal = torch.where(n_pos > 0, ideal_cum[idx], torch.zeros_like(h))
        out[f"NDCG@{k}"] = torch.where(ideal > 0, dcg[:, k - 1] / ideal.clamp(min=1e-12), torch.zeros_like(h))
    return out


@functools.lru_cache(maxsize=65536)
def _random_cached(n: int, p: int, ks: tuple) -> tuple:
    return tuple(random_expectation(n, p, ks).items())


class MetricAccumulator:
    """Sums per-turn metrics (as float64 on the host) and gives the per-turn mean."""

    def __init__(self, ks=KS):
        self.ks = ks
        self.sums: dict[str, float] = {}
        self.random_sums: dict[str, float] = {}
        self.turns = 0

    def add(self, scores, positive, valid) -> None:
        per_turn = batch_metrics(scores, positive, valid, self.ks)
        for name, value in per_turn.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value.double().sum())
        n = valid.sum(1).tolist()
        p = (positive & valid).sum(1).tolist()
        for ni, pi in zip(n, p, strict=False):
            for name, value in _random_cached(int(ni), int(pi), tuple(self.ks)):
                self.random_sums[name] = self.random_sums.get(name, 0.0) + value
        self.turns += len(n)

    def result(self) -> dict[str, float]:
        return {name: self.sums.get(name, 0.0) / max(self.turns, 1) for name in METRIC_NAMES}

    def random_result(self) -> dict[str, float]:
        return {name: self.random_sums.get(name, 0.0) / max(self.turns, 1) for name in METRIC_NAMES}


# -- LARCH's evaluation (`--eval-mode larch`) ----------------------------------------------------
LARCH_POSITIVES, LARCH_NEGATIVES, LARCH_BATCH, LARCH_PAD_SCORE = 12, 1000, 20, -10000.0
EVAL_MODES = ("mmdial", "larch")


def larch_turn_relevance(pos_scores, neg_scores) -> np.ndarray:
    """Binary relevance of one turn in LARCH's order (see the module docstring)."""
    p = np.asarray(pos_scores, np.float32)[:LARCH_POSITIVES]
    n = np.asarray(neg_scores, np.float32)[:LARCH_NEGATIVES]
    total = LARCH_POSITIVES + LARCH_NEGATIVES
    scores = np.concatenate([p, n, np.zeros(total - len(p) - len(n), np.float32)])
    pad = total - len(p) - len(n)
    if pad:
        scores[-pad:] = LARCH_PAD_SCORE
    order = np.argsort(-scores)
    return (order < len(p)).astype(np.int64)


def larch_turn_metrics(pos_scores, neg_scores, ks=KS) -> dict[str, float]:
    r = larch_turn_relevance(pos_scores, neg_scores).tolist()
    out = {}
    for k in ks:
        out[f"P@{k}"] = precision_at_k(r, k)
        out[f"R@{k}"] = recall_at_k(r, k)
        out[f"NDCG@{k}"] = ndcg_at_k(r, k)
    return out


class LarchAccumulator:
    """LARCH's averaging: per-turn metrics in stream order, averaged per batch of 20 turns,
    then over batches. `add` takes the same padded tensors as `MetricAccumulator.add`; positives
    must come first in each row (as EvalStream stores them)."""

    def __init__(self, ks=KS, batch: int = LARCH_BATCH):
        self.ks = ks
        self.batch = batch
        self.per_turn: list[dict[str, float]] = []
        self.random = MetricAccumulator(ks)

    def add(self, scores, positive, valid) -> None:
        s = scores.detach().float().cpu().numpy()
        pos = (positive & valid).cpu().numpy()
        val = valid.cpu().numpy()
        for i in range(s.shape[0]):
            p = int(pos[i].sum())
            n = int(val[i].sum())
            if not pos[i, :p].all():
                raise ValueError("LARCH mode needs each row's positives first")
            self.per_turn.append(larch_turn_metrics(s[i, :p], s[i, p:n], self.ks))
        self.random.add(scores, positive, valid)

    @property
    def turns(self) -> int:
        return len(self.per_turn)

    def result(self) -> dict[str, float]:
        batches = [self.per_turn[i : i + self.batch] for i in range(0, len(self.per_turn), self.batch)]
        out = {}
        for name in METRIC_NAMES:
            means = [sum(t[name] for t in b) / len(b) for b in batches]
            out[name] = sum(means) / len(means) if means else 0.0
        return out

    def random_result(self) -> dict[str, float]:
        return self.random.random_result()
