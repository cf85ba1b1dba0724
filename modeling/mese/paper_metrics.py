"""MESE's language metrics as the paper's official evaluation defines them (`--protocol paper`;
mmdial's own, `--protocol mmdial`, are in modeling/mese/evaluate.py). Every metric reads words as
`evaluate.words` gives them: lower-cased word and punctuation units.

- Distinct-n: the number of distinct word n-grams over all generated sentences, divided by the
  number of sentences (not by the number of n-grams: the figure grows with sentence length and can
  exceed 1, as the paper's 1.313 Distinct-4 does).
- BLEU-n: nltk `sentence_bleu` of each generated sentence against its turn's real text (one
  reference), uniform weights 1/n over 1..n-grams, smoothing `SmoothingFunction().method7`, then
  the mean over sentences (method 7 averages neighbouring n-gram precisions, so an exact short
  match can score slightly above 1: nltk's value, kept).
- PPL: the mean over sentences of exp(that sentence's mean token negative log-likelihood), the
  ground-truth system turn's words and `[EOS]` teacher forced (not exp of the corpus mean).
"""

from __future__ import annotations

import math


def _words(text: str) -> list[str]:
    from modeling.mese.evaluate import words

    return words(text)


def distinct_per_sentence(outputs: list[str], n: int) -> float:
    """Distinct n-grams (over all outputs) / number of outputs; 0 without outputs."""
    from modeling.metrics.text import ngrams

    if not outputs:
        return 0.0
    grams = {g for o in outputs for g in ngrams(_words(o), n)}
    return len(grams) / len(outputs)


def sentence_bleu_mean(hyps: list[str], refs: list[str], n: int) -> float:
    """Mean over sentences of nltk sentence BLEU-n (uniform weights, smoothing method 7), in [0, 1]."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    if not hyps:
        return 0.0
    smooth = SmoothingFunction().method7
    weights = tuple([1.0 / n] * n)
    scores = [sentence_bleu([_words(r)], _words(h), weights=weights, smoothing_function=smooth) for h, r in zip(hyps, refs, strict=True)]
    return sum(scores) / len(scores)


def mean_sentence_perplexity(per_turn: list[tuple[float, int]]) -> float:
    """Mean over turns of exp(summed NLL / tokens) for each (summed NLL in nats, tokens); turns
    without tokens are skipped; inf when none has any."""
    ppls = [math.exp(nll / count) for nll, count in per_turn if count]
    return sum(ppls) / len(ppls) if ppls else float("inf")
