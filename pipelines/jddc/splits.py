"""JDDC 2.1 splits: 80/10/10 by session, and the annotated sessions 1,800/100/100 (paper Table 3).

- A session that no annotation layer names goes to train/valid/test with probability
  0.8/0.1/0.1 by a stable hash of its id (`hash_split`, salt "jddc"): adding sessions never
  moves existing ones.
- The annotated sessions (the union of the session ids named by valid lines of the three
  layers) are split on their own so that the proportions of Table 3 hold *exactly*: they are
  ranked by a stable hash of their id (salt "jddc-annotated", ties by id) and the first
  round(n x 100/2000) go to test, the next round(n x 100/2000) to valid, the rest to train
  (2,000 sessions -> 1,800/100/100). Every worker reads the same annotation files, so every
  worker computes the same ranking. The price of exactness: adding annotated sessions can
  move earlier annotated sessions between splits (an annotation release is a fixed set).
"""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.core.splits import hash_split, stable_fraction

SPLIT_RATIOS = {"train": 0.8, "valid": 0.1, "test": 0.1}
ANNOTATED_COUNTS = {"train": 1800, "valid": 100, "test": 100}  # Table 3
SALT = "jddc"
ANNOTATED_SALT = "jddc-annotated"


def annotated_splits(session_ids: Iterable[str]) -> dict[str, str]:
    ranked = sorted(set(session_ids), key=lambda s: (stable_fraction(s, ANNOTATED_SALT), s))
    n = len(ranked)
    total = sum(ANNOTATED_COUNTS.values())
    n_test = round(n * ANNOTATED_COUNTS["test"] / total)
    n_valid = round(n * ANNOTATED_COUNTS["valid"] / total)
    out = {}
    for i, sid in enumerate(ranked):
        out[sid] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return out


def session_split(session_id: str, annotated: dict[str, str]) -> str:
    return annotated.get(session_id) or hash_split(session_id, SPLIT_RATIOS, salt=SALT)
