"""MESE's metrics on golden cases worked out by hand (definitions in modeling/mese/metrics.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modeling.mese import metrics as M
from modeling.mese.evaluate import corpus_bleu_words, distinct_words, words


def test_recall_ranking_and_final_accuracy():
    # three instances: ranked 1st, 6th (both inside the candidates) and 61st (not recalled)
    out = M.recommendation_metrics([0, 5, 60], [0, 5, None])
    assert out["R@1"] == pytest.approx(1 / 3) and out["R@10"] == pytest.approx(2 / 3) and out["R@50"] == pytest.approx(2 / 3)
    assert out["recall_acc"] == pytest.approx(2 / 3)
    assert out["ranking_acc@1"] == pytest.approx(1 / 2) and out["ranking_acc@10"] == 1.0
    assert out["final_acc@1"] == pytest.approx(1 / 3) and out["final_acc@10"] == pytest.approx(2 / 3)
    assert out["instances"] == 3
    # final = recall x ranking equals R@k when the ranked candidates head the full ranking
    for k in M.KS:
        assert out[f"final_acc@{k}"] == pytest.approx(out[f"R@{k}"])
    assert M.recommendation_metrics([], [])["R@10"] == 0.0


def test_response_recall_and_placeholder_filling():
    assert M.fill_placeholders("try [PH] or [PH]!", ["Alpha", "Beta"]) == "try Alpha or Beta!"
    assert M.fill_placeholders("[PH], [PH] and [PH]", ["Alpha"]) == "Alpha, Alpha and Alpha"
    assert M.fill_placeholders("see [PH]", []) == "see [PH]"
    got = M.response_recall(["have you seen the lost river?", "no idea", "[PH] is fun"], [["The Lost River"], ["Beta"], ["Gamma"]])
    assert got == pytest.approx(1 / 3)


@pytest.mark.slow
def test_purity_and_kmeans():
    assert M.purity(np.array([0, 0, 1, 1, 1]), ["a", "a", "b", "b", "a"]) == pytest.approx(0.8)
    assert M.purity(np.array([0, 0, 0, 0]), ["a", "b", "c", "a"]) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(c, 0.05, size=(20, 4)) for c in (np.eye(4)[0], np.eye(4)[1], np.eye(4)[2])])
    labels = ["x"] * 20 + ["y"] * 20 + ["z"] * 20
    assert M.clustering_accuracy(blobs, labels, ks=(3,), repeats=3)["K=3"] == pytest.approx(1.0)
    noise = rng.normal(size=(60, 4))
    assert M.clustering_accuracy(noise, labels, ks=(3,), repeats=3)["K=3"] < 0.7


def test_text_metrics_on_words():
    assert words("Have you seen [PH]? It's GREAT") == ["have", "you", "seen", "[ph]", "?", "it", "'", "s", "great"]
    assert distinct_words(["a b a b"], 2) == pytest.approx(2 / 3)  # (a b), (b a), (a b)
    assert distinct_words(["a b c", "a b d"], 3) == pytest.approx(1.0)
    assert distinct_words([""], 2) == 0.0
    # p1 = p2 = 1, brevity penalty exp(1 - 6/3)
    assert corpus_bleu_words(["the cat sat"], ["the cat sat on the mat"], 2) == pytest.approx(math.exp(-1), abs=1e-4)
    assert corpus_bleu_words(["The cat sat on the mat."], ["the cat sat on the mat ."], 4) == pytest.approx(1.0)
    assert corpus_bleu_words(["dogs bark loudly"], ["the cat sat on the mat"], 2) == 0.0
