"""The extractive baselines of Table 9: Lead and LexRank, both cut to N characters.

- Lead: the first N characters of the (non-trivial) dialogue text, N = the mean summary length
  of the training set in characters, rounded (the paper: "first N characters according to the
  average length of the target").
- LexRank (Erkan and Radev 2004) with sumy's implementation: every utterance is a sentence,
  ranked by its centrality in the tf-idf cosine graph; the best-ranked utterances are taken, in
  dialogue order, until they hold N characters, and the result is cut to N. Units are characters
  (`char`, default) or jieba words (`word`); sumy's document model is built directly, so no NLTK
  tokenizer data is needed.
"""

from __future__ import annotations

import re

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def lead(text: str, n: int) -> str:
    return text[:n]


class _Units:
    """sumy's tokenizer interface over characters or jieba words (punctuation dropped)."""

    def __init__(self, units: str):
        if units not in ("char", "word"):
            raise ValueError(f"summary.lexrank_units={units!r}: char or word")
        self.units = units

    def to_words(self, text: str) -> list[str]:
        if self.units == "char":
            return [c for c in text if not _PUNCT.fullmatch(c)]
        import jieba

        jieba.setLogLevel(60)
        return [w for w in jieba.lcut(text) if not _PUNCT.fullmatch(w)]


def _cosine(sentence1, sentence2, tf1, tf2, idf_metrics) -> float:
    """sumy's LexRank cosine with its sums taken in sorted word order: sumy sums over frozensets,
    whose order (and so the float rounding) changes with the process's string-hash seed, which
    changed near-tied rankings from one run to the next."""
    common = sorted(frozenset(sentence1) & frozenset(sentence2))
    numerator = sum(tf1[t] * tf2[t] * idf_metrics[t] ** 2 for t in common)
    d1 = sum((tf1[t] * idf_metrics[t]) ** 2 for t in sorted(frozenset(sentence1)))
    d2 = sum((tf2[t] * idf_metrics[t]) ** 2 for t in sorted(frozenset(sentence2)))
    if d1 > 0 and d2 > 0:
        return numerator / (d1**0.5 * d2**0.5)
    return 0.0


def _ordered_lexrank():
    from sumy.summarizers.lex_rank import LexRankSummarizer

    class OrderedLexRank(LexRankSummarizer):
        cosine_similarity = staticmethod(_cosine)

    return OrderedLexRank()


def lexrank(sentences: list[str], n: int, units: str = "char") -> str:
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

    sentences = [s for s in sentences if s.strip()]
    if not sentences:
        return ""
    tok = _Units(units)
    doc = ObjectDocumentModel([Paragraph([Sentence(s, tok) for s in sentences])])
    summarizer = _ordered_lexrank()
    picked: tuple = ()
    for k in range(1, len(doc.sentences) + 1):
        picked = summarizer(doc, k)
        if sum(len(str(s)) for s in picked) >= n:
            break
    return "".join(str(s) for s in picked)[:n]
