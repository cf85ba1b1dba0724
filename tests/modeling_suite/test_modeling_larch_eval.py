"""`--eval-mode larch` against an independent re-implementation of LARCH's test loop
(SparkJiao/LARCH `evaluator_graph.py` + `eval.py` + `eval_metric.py`, rewritten here from their
description: a padded [batch, 1012] score tensor, `scores[b, -pad_len:] = -10000`,
`np.argsort(-row)`, relevance by position, metrics per batch of 20 turns, mean over batches)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from modeling.metrics import ranking as R

POS, NEG, TOT, BATCH = 12, 1000, 1012, 20


def _larch_metrics(r: np.ndarray) -> list[float]:
    def dcg(rel, k):
        rel = np.asarray(rel, dtype=float)[:k]
        return float(np.sum(rel / np.log2(np.arange(2, rel.size + 2)))) if rel.size else 0.0

    def ndcg(rel, k):
        best = dcg(sorted(rel, reverse=True), k)
        return dcg(rel, k) / best if best else 0.0

    def recall(rel, k):
        total = np.sum(rel)
        return float(np.sum(rel[:k]) / total) if total else 0.0

    out = []
    for k in (5, 10, 20):
        out += [float(np.mean(r[:k])), recall(r, k), ndcg(r, k)]
    return out  # P, R, NDCG per k, in METRIC_NAMES order


def larch_reference(turns: list[tuple[list[float], list[float]]]) -> dict[str, float]:
    """turns: (positive scores, negative scores) in stored order."""
    sums = np.zeros(9)
    n_batches = 0
    for start in range(0, len(turns), BATCH):
        chunk = turns[start : start + BATCH]
        scores = torch.zeros(len(chunk), TOT)
        n_pos, pads = [], []
        for b, (p, n) in enumerate(chunk):
            p, n = p[:POS], n[:NEG]
            row = p + n
            scores[b, : len(row)] = torch.tensor(row, dtype=torch.float32)
            n_pos.append(len(p))
            pads.append(TOT - len(row))
        for b, pad in enumerate(pads):
            if pad:  # LARCH has no guard: with pad 0 its line raises (a full row cannot be evaluated)
                scores[b, -pad:] = torch.zeros(pad).fill_(-10000.0)
        batch = np.zeros(9)
        for b in range(len(chunk)):
            order = np.argsort(-scores[b].numpy())
            r = np.array([1 if j in range(n_pos[b]) else 0 for j in order])
            batch += _larch_metrics(r)
        sums += batch / len(chunk)
        n_batches += 1
    return dict(zip(R.METRIC_NAMES, (sums / n_batches).tolist(), strict=True))


def larch_mode(turns) -> dict[str, float]:
    """The same turns through LarchAccumulator, fed as padded batches of 7 (not 20: the
    accumulator must regroup turns itself)."""
    acc = R.LarchAccumulator()
    for start in range(0, len(turns), 7):
        chunk = turns[start : start + 7]
        width = max(len(p) + len(n) for p, n in chunk)
        scores = torch.zeros(len(chunk), width)
        pos = torch.zeros(len(chunk), width, dtype=torch.bool)
        valid = torch.zeros(len(chunk), width, dtype=torch.bool)
        for b, (p, n) in enumerate(chunk):
            scores[b, : len(p) + len(n)] = torch.tensor(p + n)
            pos[b, : len(p)] = True
            valid[b, : len(p) + len(n)] = True
        acc.add(scores, pos, valid)
    return acc.result()


def _turn(rng, n_pos, n_neg, levels=None):
    draw = (lambda k: rng.choice(levels, k).tolist()) if levels is not None else (lambda k: rng.random(k).tolist())
    return (draw(n_pos), draw(n_neg))


def test_four_positives_among_500_equal_scores_follow_numpys_order():
    r = R.larch_turn_relevance([0.5] * 4, [0.5] * 496)
    expected = np.where(np.argsort(-np.array([0.5] * 500 + [-10000.0] * 512, np.float32)) < 4)[0]
    assert np.flatnonzero(r).tolist() == expected.tolist()
    assert np.flatnonzero(r).tolist() != [0, 1, 2, 3]  # LARCH does not favour the positives
    # mmdial's default puts them last among the ties
    assert R.binary_relevance([0.5] * 500, [True] * 4 + [False] * 496)[-4:] == [1, 1, 1, 1]


def test_truncation_to_12_positives_and_1000_negatives():
    # 15 positives: the last 3 (the best scored) are never seen
    p = [0.9] * 12 + [2.0] * 3
    m = R.larch_turn_metrics(p, [0.1] * 50 + [1.5] * 3)
    assert m["R@20"] == 1.0 and m["P@5"] == pytest.approx(2 / 5)  # 3 negatives at 1.5 rank first
    # 1,200 negatives: the last 200 (scored above every positive) are never seen
    m = R.larch_turn_metrics([0.9] * 5, [0.1] * 1000 + [5.0] * 200)
    assert m["P@5"] == 1.0 and m["NDCG@5"] == 1.0
    assert R.turn_metrics([0.9] * 5 + [0.1] * 1000 + [5.0] * 200, [True] * 5 + [False] * 1200)["P@5"] == 0.0  # mmdial keeps all


def test_a_full_row_is_scored_as_it_is():
    # 12 positives + 1,000 negatives leave no padding; LARCH's `scores[b, -0:] = zeros(0)` raises there
    with pytest.raises(RuntimeError):
        torch.zeros(1, TOT)[0, -0:] = torch.zeros(0).fill_(-10000.0)
    assert R.larch_turn_relevance([1.0] * 12, [0.0] * 1000)[:12].tolist() == [1] * 12
    assert R.larch_turn_relevance([0.0] * 12, [1.0] * 1000)[-12:].tolist() == [1] * 12


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_reference_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    turns = []
    for _ in range(int(rng.integers(1, 70))):
        kind = rng.integers(4)
        n_pos = int(rng.integers(1, 16))
        if kind == 0:  # ties on a coarse grid
            turns.append(_turn(rng, n_pos, int(rng.integers(1, 60)), levels=np.array([0.0, 0.25, 0.5])))
        elif kind == 1:  # over the truncation limits
            turns.append(_turn(rng, n_pos, int(rng.integers(990, 1100))))
        elif kind == 2:  # exactly 12 + 1000 (no padding)
            turns.append(_turn(rng, 12, 1000, levels=np.array([0.0, 1.0])))
        else:
            turns.append(_turn(rng, n_pos, int(rng.integers(1, 40))))
    got, want = larch_mode(turns), larch_reference(turns)
    for name in R.METRIC_NAMES:
        assert got[name] == pytest.approx(want[name], abs=1e-12), name


def test_per_batch_averaging_weighs_a_short_last_batch_like_a_full_one():
    perfect = ([1.0], [0.0] * 9)
    worst = ([0.0], [1.0] * 9)
    turns = [perfect] * 20 + [worst]
    got = larch_mode(turns)
    assert got["R@5"] == pytest.approx(0.5)  # (1 + 0) / 2 batches, not 20/21
    assert got == pytest.approx(larch_reference(turns))
    acc = R.MetricAccumulator()
    scores = torch.tensor([[1.0] + [0.0] * 9] * 20 + [[0.0] + [1.0] * 9])
    pos = torch.zeros(21, 10, dtype=torch.bool)
    pos[:, 0] = True
    acc.add(scores, pos, torch.ones(21, 10, dtype=torch.bool))
    assert acc.result()["R@5"] == pytest.approx(20 / 21)
    assert not math.isclose(acc.result()["R@5"], got["R@5"])
