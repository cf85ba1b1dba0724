"""MESE's recommendation and analysis metrics, each defined here (section 4.2.3, Tables 2, 3, 6).

An evaluation *instance* is one (recommendation turn, ground-truth item) pair: every system turn
of the split that mentions items is a recommendation turn, and each item it mentions is scored
separately (the usual ReDial protocol; a turn recommending two movies gives two instances).

- R@k: the share of instances whose item is among the first k of the system's ranking of the
  whole catalogue (ranked candidates first, by ranking score; then the other items by selection
  score).
- recall accuracy: the share of instances whose item is among the candidates that selection
  returns (K nearest neighbours of D_R, plus the co-occurrence source).
- ranking accuracy@k: among the instances whose item was recalled, the share ranked in the top k
  of the candidates by the ranking head.
- final accuracy@k = recall accuracy x ranking accuracy@k (= R@k whenever k <= |candidates|).
- ReR (response recall): the share of recommendation turns whose generated response, after
  filling `[PH]` with titles, contains the title of one of the turn's ground-truth items
  (case-insensitive).
- clustering accuracy (Table 6): K-means on item embeddings of the single-genre items; each
  cluster counts its most common genre as correct; accuracy = correct items / items (purity),
  averaged over repeats with different seeds.
"""

from __future__ import annotations

import numpy as np

KS = (1, 10, 50)


def recall_at_k(ranks: list[int], k: int) -> float:
    """`ranks`: 0-based rank of each instance's item in the full ranking."""
    return float(np.mean([r < k for r in ranks])) if ranks else 0.0


def recall_accuracy(recalled: list[bool]) -> float:
    return float(np.mean(recalled)) if recalled else 0.0


def ranking_accuracy(cand_ranks: list[int | None], k: int) -> float:
    """`cand_ranks`: the item's 0-based rank among the candidates, None when it was not recalled."""
    inside = [r for r in cand_ranks if r is not None]
    return float(np.mean([r < k for r in inside])) if inside else 0.0


def recommendation_metrics(ranks: list[int], cand_ranks: list[int | None], ks=KS) -> dict:
    rec = recall_accuracy([r is not None for r in cand_ranks])
    out = {f"R@{k}": recall_at_k(ranks, k) for k in ks}
    out["recall_acc"] = rec
    for k in ks:
        out[f"ranking_acc@{k}"] = ranking_accuracy(cand_ranks, k)
        out[f"final_acc@{k}"] = rec * out[f"ranking_acc@{k}"]
    out["instances"] = len(ranks)
    return out


def response_recall(responses: list[str], gold_titles: list[list[str]]) -> float:
    if not responses:
        return 0.0
    hits = [any(t.lower() in r.lower() for t in titles if t) for r, titles in zip(responses, gold_titles, strict=True)]
    return float(np.mean(hits))


def fill_placeholders(text: str, titles: list[str], placeholder: str = "[PH]") -> str:
    """The i-th `[PH]` gets the i-th recommended title (the last one again when they run out);
    with no recommendation the placeholders stay."""
    if not titles:
        return text
    parts = text.split(placeholder)
    out = [parts[0]]
    for i, rest in enumerate(parts[1:]):
        out += [titles[min(i, len(titles) - 1)], rest]
    return "".join(out)


def kmeans(x: np.ndarray, k: int, seed: int, iters: int = 300) -> np.ndarray:
    """scikit-learn's KMeans (Lloyd, k-means++ seeding, one initialisation per seed: the paper's
    repeats are the seeds); returns each row's cluster."""
    from sklearn.cluster import KMeans

    x = np.asarray(x, dtype=np.float64)
    return KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=iters, random_state=seed).fit_predict(x)


def purity(clusters: np.ndarray, genres: list[str]) -> float:
    """Share of items whose genre is their cluster's most common genre (from scikit-learn's
    contingency matrix: the sum over clusters of their largest genre count, over all items)."""
    from sklearn.metrics.cluster import contingency_matrix

    if not len(genres):
        return 0.0
    table = contingency_matrix(list(genres), np.asarray(clusters))  # genres x clusters
    return float(table.max(axis=0).sum() / table.sum())


def clustering_accuracy(emb: np.ndarray, genres: list[str], ks=(3, 4, 5), repeats: int = 20) -> dict:
    """Table 6: mean purity of K-means over `repeats` seeds, per K (embeddings L2-normalised)."""
    x = emb / np.clip(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12, None)
    return {f"K={k}": float(np.mean([purity(kmeans(x, k, seed), genres) for seed in range(repeats)])) for k in ks}
