"""Which utterances are trivial (greeting, waiting, self-introduction), learnt from the annotation.

A multinomial naive Bayes over the utterance's speaker and its character unigrams and bigrams,
trained on the training split's `trivial_turn_indices` (every text turn of an annotated session
is an example; image messages are never trivial). Small, exact and without a word list, so it
follows whatever the annotators marked rather than a guess of what greetings look like.
"""

from __future__ import annotations

import math
from collections import Counter

from modeling.jddc.data import Turn


def _features(t: Turn) -> list[str]:
    chars = [c for c in t.text if not c.isspace()]
    return [f"spk:{t.speaker}", *chars, *(a + b for a, b in zip(chars, chars[1:]))]


class TrivialFilter:
    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha
        self.counts = {True: Counter(), False: Counter()}
        self.docs = {True: 0, False: 0}

    def fit(self, examples) -> TrivialFilter:
        """examples: SummaryExample objects (turns + annotated trivial indices)."""
        for x in examples:
            for t in x.turns:
                if t.text:
                    label = t.index in x.trivial
                    self.counts[label].update(_features(t))
                    self.docs[label] += 1
        return self

    def log_odds(self, t: Turn) -> float:
        """log P(trivial | turn) - log P(not trivial | turn)."""
        if not t.text or not self.docs[True] or not self.docs[False]:
            return -math.inf
        vocab = len(set(self.counts[True]) | set(self.counts[False])) + 1
        score = math.log(self.docs[True]) - math.log(self.docs[False])
        totals = {k: sum(c.values()) + self.alpha * vocab for k, c in self.counts.items()}
        for f in _features(t):
            score += math.log((self.counts[True][f] + self.alpha) / totals[True])
            score -= math.log((self.counts[False][f] + self.alpha) / totals[False])
        return score

    def is_trivial(self, t: Turn) -> bool:
        return self.log_odds(t) > 0

    def to_json(self) -> dict:
        return {
            "alpha": self.alpha,
            "docs": {str(k): v for k, v in self.docs.items()},
            "counts": {str(k): dict(c) for k, c in self.counts.items()},
        }

    @classmethod
    def from_json(cls, doc: dict) -> TrivialFilter:
        f = cls(doc["alpha"])
        f.docs = {k == "True": v for k, v in doc["docs"].items()}
        f.counts = {k == "True": Counter(v) for k, v in doc["counts"].items()}
        return f
