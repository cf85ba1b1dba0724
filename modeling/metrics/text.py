"""Text-generation and classification metrics, each with its definition.

Chinese has no spaces, so every n-gram metric here counts **characters**: a string's units are
its Unicode code points with whitespace removed (`chars`). All scores are fractions in [0, 1]
(the paper prints them times 100).

- BLEU-n (`corpus_bleu`): corpus BLEU (Papineni et al. 2002) with n-grams up to `n` (default 4),
  one reference per hypothesis, computed by sacrebleu (`tokenize="char"`, which splits every
  character; whitespace is removed first so both sides split alike), uniform weights, brevity
  penalty over the corpus, sacrebleu's default "exp" smoothing only for orders with no match.
  BLEU = BP * exp(mean_k log p_k), p_k = clipped k-gram matches / hypothesis k-grams (corpus sums),
  BP = min(1, exp(1 - r/c)) with r, c the reference and hypothesis lengths summed over the corpus.
- ROUGE-N / ROUGE-L F1 (`rouge`): per pair over characters, then the mean over pairs (Lin 2004),
  computed by Google's `rouge-score` (the reference Python port of ROUGE-1.5.5) with a character
  tokenizer (`CharTokenizer`: the `chars` units) and no stemming.
  ROUGE-N: overlap = clipped common n-grams; P = overlap/hyp n-grams, R = overlap/ref n-grams.
  ROUGE-L: LCS length; P = LCS/|hyp|, R = LCS/|ref|. F1 = 2PR/(P+R) (0 when P+R = 0).
- Distinct-n (`distinct`): distinct character n-grams over all generated outputs together,
  divided by the total number of n-grams (Li et al. 2016); 0 when there are no n-grams.
- Perplexity (`perplexity`): exp(total negative log-likelihood in nats / number of predicted
  tokens).
- F1 (`binary_f1`): for the positive class, 2 TP / (2 TP + FP + FN) (0 when that is 0/0);
  `macro_f1` averages the F1 of the positive and the negative class. Both by scikit-learn's
  `f1_score` (`pos_label`, `average="macro"` over the labels {True, False}, `zero_division=0`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence


def chars(text: str) -> list[str]:
    """The units every metric counts: characters, whitespace dropped."""
    return [c for c in (text or "") if not c.isspace()]


def ngrams(units: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(units[i : i + n]) for i in range(len(units) - n + 1)]


def corpus_bleu(hyps: Sequence[str], refs: Sequence[str], n: int = 4) -> float:
    """Corpus BLEU-n over characters (module docstring), a fraction in [0, 1]."""
    from sacrebleu.metrics import BLEU

    _check(hyps, refs)
    if not hyps:
        return 0.0
    bleu = BLEU(tokenize="char", max_ngram_order=n, effective_order=False)
    h = ["".join(chars(x)) for x in hyps]
    r = ["".join(chars(x)) for x in refs]
    return bleu.corpus_score(h, [r]).score / 100.0


class CharTokenizer:
    """rouge-score's tokenizer interface over `chars` (its default tokenizer drops non-ASCII text)."""

    def tokenize(self, text: str) -> list[str]:
        return chars(text)


_ROUGE_TYPES = {"1": "rouge1", "2": "rouge2", "3": "rouge3", "4": "rouge4", "L": "rougeL"}


@functools.lru_cache(maxsize=8)
def _scorer(kinds: tuple[str, ...]):
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer([_ROUGE_TYPES[k] for k in kinds], use_stemmer=False, tokenizer=CharTokenizer())


def rouge_pair(hyp: str, ref: str, kind: str) -> float:
    """ROUGE F1 of one pair; kind is "1", "2", ... (ROUGE-N) or "L"."""
    kind = kind.upper()
    return _scorer((kind,)).score(ref or "", hyp or "")[_ROUGE_TYPES[kind]].fmeasure


def rouge(hyps: Sequence[str], refs: Sequence[str], kinds: Sequence[str] = ("1", "2", "L")) -> dict[str, float]:
    """Mean per-pair ROUGE F1 over characters: {"ROUGE-1": .., "ROUGE-2": .., "ROUGE-L": ..}."""
    _check(hyps, refs)
    kinds = tuple(k.upper() for k in kinds)
    scorer = _scorer(kinds)
    totals = dict.fromkeys(kinds, 0.0)
    for h, r in zip(hyps, refs, strict=True):
        scores = scorer.score(r or "", h or "")  # rouge-score takes (target, prediction)
        for k in kinds:
            totals[k] += scores[_ROUGE_TYPES[k]].fmeasure
    return {f"ROUGE-{k}": totals[k] / len(hyps) if hyps else 0.0 for k in kinds}


def distinct(outputs: Sequence[str], n: int) -> float:
    """Distinct-n: distinct character n-grams / all character n-grams, over all outputs."""
    grams = [g for o in outputs for g in ngrams(chars(o), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def perplexity(total_nll: float, tokens: int) -> float:
    """exp(total NLL in nats / predicted tokens); inf when nothing was predicted."""
    return math.exp(total_nll / tokens) if tokens else float("inf")


def binary_f1(pred: Sequence[bool], gold: Sequence[bool], positive: bool = True) -> float:
    """F1 of the `positive` class: 2TP / (2TP + FP + FN); 0 when that is 0/0 (scikit-learn)."""
    from sklearn.metrics import f1_score

    _check(pred, gold)
    if not pred:
        return 0.0
    return float(
        f1_score([bool(g) for g in gold], [bool(p) for p in pred], pos_label=positive, labels=[positive], average="binary", zero_division=0)
    )


def macro_f1(pred: Sequence[bool], gold: Sequence[bool]) -> float:
    """Mean of the F1 of the positive and of the negative class (scikit-learn, labels {True, False})."""
    from sklearn.metrics import f1_score

    _check(pred, gold)
    if not pred:
        return 0.0
    return float(f1_score([bool(g) for g in gold], [bool(p) for p in pred], labels=[True, False], average="macro", zero_division=0))


def generation_metrics(hyps: Sequence[str], refs: Sequence[str], bleu_n: Sequence[int] = (4,), distinct_n: Sequence[int] = (1, 2)) -> dict:
    """The paper's generation columns: BLEU-n for each n, ROUGE-1/2/L F1, Distinct-n for each n."""
    out = {f"BLEU-{n}": corpus_bleu(hyps, refs, n) for n in bleu_n}
    out.update(rouge(hyps, refs))
    out.update({f"Distinct-{n}": distinct(hyps, n) for n in distinct_n})
    return out


def _check(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"{len(a)} predictions but {len(b)} references")
