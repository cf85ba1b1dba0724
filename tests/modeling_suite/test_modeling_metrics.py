"""Golden, hand-computed cases for P@k, R@k and NDCG@k (LARCH's definitions), the exact random
expectation, and agreement of the vectorised and the reference implementation."""

from __future__ import annotations

import itertools
import math

import pytest

from modeling.metrics import ranking as R


def test_golden_single_list():
    # scores rank the candidates c0..c6 as c2, c0, c5, c1, c3, c6, c4; positives c0 and c3
    scores = [0.8, 0.5, 0.9, 0.4, 0.1, 0.6, 0.3]
    positive = [True, False, False, True, False, False, False]
    r = R.binary_relevance(scores, positive)
    assert r == [0, 1, 0, 0, 1, 0, 0]
    m = R.turn_metrics(scores, positive)
    assert m["P@5"] == pytest.approx(2 / 5)
    assert m["R@5"] == pytest.approx(1.0)
    # DCG@5 = 1/log2(3) + 1/log2(6); IDCG@5 = 1/log2(2) + 1/log2(3)
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 + 1 / math.log2(3)
    assert m["NDCG@5"] == pytest.approx(dcg / idcg)
    assert m["NDCG@5"] == pytest.approx(0.6241, abs=1e-4)
    # lists shorter than k are padded with non-relevant entries (LARCH pads to 1,012)
    assert m["P@10"] == pytest.approx(2 / 10)
    assert m["P@20"] == pytest.approx(2 / 20)
    assert m["NDCG@20"] == pytest.approx(m["NDCG@5"])


def test_golden_positive_below_k():
    # 12 candidates, 3 positives ranked 1st, 6th and 11th
    scores = [12 - i for i in range(12)]
    positive = [i in (0, 5, 10) for i in range(12)]
    m = R.turn_metrics(scores, positive)
    assert m["P@5"] == pytest.approx(1 / 5)
    assert m["R@5"] == pytest.approx(1 / 3)
    assert m["NDCG@5"] == pytest.approx(1 / (1 + 1 / math.log2(3) + 1 / math.log2(4)))
    assert m["P@10"] == pytest.approx(2 / 10)
    assert m["R@10"] == pytest.approx(2 / 3)
    ideal = 1 + 1 / math.log2(3) + 0.5
    assert m["NDCG@10"] == pytest.approx((1 + 1 / math.log2(7)) / ideal)
    assert m["R@20"] == pytest.approx(1.0)
    assert m["NDCG@20"] == pytest.approx((1 + 1 / math.log2(7) + 1 / math.log2(12)) / ideal)


def test_perfect_and_no_positive():
    m = R.turn_metrics([3, 2, 1], [True, True, False])
    assert m["NDCG@5"] == pytest.approx(1.0) and m["R@5"] == 1.0 and m["P@5"] == pytest.approx(2 / 5)
    z = R.turn_metrics([3, 2, 1], [False, False, False])
    assert z["R@5"] == 0.0 and z["NDCG@5"] == 0.0 and z["P@5"] == 0.0


def test_ties_count_against_positives():
    m = R.turn_metrics([1.0] * 10, [True] + [False] * 9)
    assert m["R@5"] == 0.0  # the positive ties with 9 negatives and is ranked last
    assert R.turn_metrics([float("nan"), 0.0], [True, False])["NDCG@5"] == pytest.approx(1 / math.log2(3))


@pytest.mark.parametrize("n,p", [(3, 1), (6, 2), (7, 3)])
def test_random_expectation_is_exact(n, p):
    """Average over every ordering equals the closed form."""
    sums: dict[str, float] = {}
    perms = list(itertools.permutations(range(n)))
    for perm in perms:
        scores = [-perm.index(i) for i in range(n)]
        for k, v in R.turn_metrics(scores, [i < p for i in range(n)]).items():
            sums[k] = sums.get(k, 0.0) + v
    exact = R.random_expectation(n, p)
    for k in sums:
        assert exact[k] == pytest.approx(sums[k] / len(perms)), k


def test_batch_matches_reference():
    import torch

    g = torch.Generator().manual_seed(0)
    b, c = 40, 30
    scores = torch.randint(0, 6, (b, c), generator=g).float()  # many ties
    positive = torch.rand(b, c, generator=g) < 0.2
    lengths = torch.randint(3, c + 1, (b,), generator=g)
    valid = torch.arange(c)[None, :] < lengths[:, None]
    got = R.batch_metrics(scores, positive, valid)
    for i in range(b):
        n = int(lengths[i])
        ref = R.turn_metrics(scores[i, :n].tolist(), positive[i, :n].tolist())
        for name, value in ref.items():
            assert float(got[name][i]) == pytest.approx(value, abs=1e-5), (i, name)


def test_accumulator_means_over_turns():
    import torch

    acc = R.MetricAccumulator()
    scores = torch.tensor([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    pos = torch.tensor([[True, False, False, False], [True, False, False, False]])
    valid = torch.tensor([[True, True, True, True], [True, True, True, False]])
    acc.add(scores, pos, valid)
    res = acc.result()
    assert acc.turns == 2
    assert res["R@5"] == pytest.approx(1.0)
    assert res["NDCG@5"] == pytest.approx((1.0 + 1 / math.log2(4)) / 2)
    assert acc.random_result()["R@5"] == pytest.approx(1.0)


def test_ndcg_precision_recall_agree_with_scikit_learn_on_tie_free_lists():
    """On lists without ties the definitions are the textbook ones: NDCG@k equals scikit-learn's
    `ndcg_score` (binary gains, log2 discount), P@k and R@k scikit-learn's precision and recall of
    the top-k cut (P@k over k: lists shorter than k count the missing entries as non-relevant)."""
    import numpy as np
    from sklearn.metrics import ndcg_score, precision_score, recall_score

    rng = np.random.default_rng(11)
    for _ in range(60):
        n = int(rng.integers(2, 40))
        scores = rng.permutation(n).astype(float) + rng.random()  # distinct scores
        positive = rng.random(n) < 0.3
        positive[int(rng.integers(n))] = True
        m = R.turn_metrics(scores.tolist(), positive.tolist())
        for k in R.KS:
            assert m[f"NDCG@{k}"] == pytest.approx(ndcg_score([positive.astype(int)], [scores], k=k), abs=1e-12)
            top = np.zeros(n, dtype=bool)
            top[np.argsort(-scores)[:k]] = True
            assert m[f"R@{k}"] == pytest.approx(recall_score(positive, top))
            assert m[f"P@{k}"] == pytest.approx(precision_score(positive, top, zero_division=0) * min(k, n) / k)
