"""Deterministic split assignment.

A source's own split (a folder or file name) always wins; otherwise a stable hash of the dialog
id places it, so that adding dialogs never moves existing ones and every runner agrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def stable_fraction(key: str, salt: str = "") -> float:
    """A uniform number in [0, 1) that depends only on `key` and `salt`."""
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hash_split(key: str, ratios: Mapping[str, float], salt: str = "") -> str:
    """Pick a split for `key` with probabilities `ratios` (normalised; order matters only for ties)."""
    if not ratios:
        raise ValueError("ratios must name at least one split")
    total = float(sum(ratios.values()))
    if total <= 0:
        raise ValueError(f"ratios must sum to a positive number: {dict(ratios)}")
    x = stable_fraction(key, salt) * total
    acc = 0.0
    for name, weight in ratios.items():
        acc += weight
        if x < acc:
            return name
    return list(ratios)[-1]


def normalise_split_name(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """Map source spellings (dev, validation, val) onto mmdial's names."""
    default = {"dev": "valid", "val": "valid", "validation": "valid", "eval": "valid"}
    table = {**default, **(aliases or {})}
    return table.get(name.lower(), name.lower())


SPLIT_RANK = ("train", "valid", "validation", "dev", "devtest", "test", "teststd", "mini", "shared")


def split_order(splits: list[str]) -> list[str]:
    """Splits in the order people read them: train, then validation, then test, then the rest by name."""
    rank = {s: i for i, s in enumerate(SPLIT_RANK)}
    return sorted(splits, key=lambda s: (rank.get(s, len(rank)), s))
