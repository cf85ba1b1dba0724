"""Golden tests of MESE's paper-protocol language metrics (modeling/mese/paper_metrics.py), each
against a figure worked out by hand or nltk called directly on the same tokens."""

from __future__ import annotations

import math

import pytest

from modeling.mese.paper_metrics import distinct_per_sentence, mean_sentence_perplexity, sentence_bleu_mean


def test_distinct_divides_distinct_ngrams_by_sentences():
    outs = ["I like it .", "I like that movie"]
    # bigrams: (i like) (like it) (it .) | (i like) (like that) (that movie) -> 5 distinct, 2 sentences
    assert distinct_per_sentence(outs, 2) == pytest.approx(2.5)
    # trigrams: 2 + 2 distinct -> 4 / 2; it exceeds 1, unlike the ratio Distinct
    assert distinct_per_sentence(outs, 3) == pytest.approx(2.0)
    assert distinct_per_sentence([], 2) == 0.0


def test_bleu_is_nltk_sentence_bleu_method7_averaged():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    hyps, refs = ["you should watch alien , it is scary", "hello there"], ["you should see alien , it is very scary", "hi there friend"]
    want = [
        sentence_bleu([r.split()], h.split(), weights=(0.5, 0.5), smoothing_function=SmoothingFunction().method7)
        for h, r in zip(hyps, refs, strict=True)
    ]
    assert sentence_bleu_mean(hyps, refs, 2) == pytest.approx(sum(want) / 2)
    # method 7 (method 5's n-gram averaging) lifts an exact 4-word match a little above 1: nltk's value, kept
    exact = sentence_bleu([["a", "b", "c", "d"]], ["a", "b", "c", "d"], smoothing_function=SmoothingFunction().method7)
    assert sentence_bleu_mean(["a b c d"], ["a b c d"], 4) == pytest.approx(exact) and exact > 1.0


def test_perplexity_is_the_mean_of_per_sentence_perplexities():
    per_turn = [(2.0, 2), (6.0, 3), (5.0, 0)]
    assert mean_sentence_perplexity(per_turn) == pytest.approx((math.e + math.e**2) / 2)
    # not the corpus perplexity exp(8 / 5)
    assert mean_sentence_perplexity(per_turn) != pytest.approx(math.exp(8 / 5))
    assert mean_sentence_perplexity([]) == math.inf


def _chain_step(path: list[int], eos: int, vocab: int = 8):
    """A fake model: after a continuation that follows `path`, its next token is almost sure."""
    import torch

    def step(conts):
        rows = torch.full((len(conts), vocab), -20.0)
        for i, c in enumerate(conts):
            nxt = path[len(c)] if c == path[: len(c)] and len(c) < len(path) else eos
            rows[i, nxt] = 0.0
        return torch.log_softmax(rows, -1)

    return step


def test_sampled_beam_search_follows_a_sure_path_and_is_seeded():
    import torch

    from modeling.mese.paper_generate import sampled_beam_search

    step = _chain_step([3, 4, 5], eos=7)
    got = sampled_beam_search(step, beams=3, max_new=10, eos=7, generator=torch.Generator().manual_seed(0))
    assert got == [3, 4, 5]
    # a flat distribution: sampled, yet the same seed gives the same words, and max_new bounds the length
    flat = lambda conts: torch.log_softmax(torch.zeros(len(conts), 8), -1)  # noqa: E731
    a = sampled_beam_search(flat, 2, 5, 7, torch.Generator().manual_seed(1))
    assert a == sampled_beam_search(flat, 2, 5, 7, torch.Generator().manual_seed(1)) and len(a) <= 5 and 7 not in a
