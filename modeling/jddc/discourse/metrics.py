"""Discourse parsing metrics as Shi and Huang (2019) define them: micro-averaged F1 over links.

A session's parse is a set of links (child EDU, parent EDU, relation), one per EDU but the first.
Micro-averaging pools the links of every session:
- **Link F1**: a predicted (child, parent) is correct when the gold parse has the same pair;
  precision = correct / predicted links, recall = correct / gold links, F1 their harmonic mean.
- **Link & Relation F1**: the same with (child, parent, relation) triples: the link and its
  relation must both be right.
A parser that leaves some EDUs unlinked (the text-only parser, which never sees image EDUs)
predicts fewer links than the gold parse has, so its recall, not its precision, pays for them.
With one predicted link per gold EDU, precision = recall = F1 = accuracy over EDUs.
"""

from __future__ import annotations

from collections.abc import Iterable

Link = tuple[int, int, str]  # (child EDU, parent EDU, relation)


def _f1(correct: int, predicted: int, gold: int) -> dict:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def discourse_f1(sessions: Iterable[tuple[Iterable[Link], Iterable[Link]]]) -> dict:
    """{'link': {precision, recall, f1}, 'link_relation': {...}, counts} over (gold, predicted) pairs.

    Links are compared as sets per session (a duplicate counts once); relation strings exactly."""
    n_gold = n_pred = link_ok = full_ok = 0
    for gold, pred in sessions:
        gold_set, pred_set = set(gold), set(pred)
        n_gold += len(gold_set)
        n_pred += len(pred_set)
        gold_links = {(c, p) for c, p, _ in gold_set}
        link_ok += sum((c, p) in gold_links for c, p, _ in pred_set)
        full_ok += len(gold_set & pred_set)
    return {
        "link": _f1(link_ok, n_pred, n_gold),
        "link_relation": _f1(full_ok, n_pred, n_gold),
        "gold_links": n_gold,
        "predicted_links": n_pred,
    }
