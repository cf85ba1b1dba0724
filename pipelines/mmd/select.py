"""Propose the MMD-v3 annotation set: a stratified sample of MMD-v2 dialogs (5% by default).

Strata are split x dialog length (quartile) x number of recommendation turns (0, 1, 2, 3+), so the
annotated subset keeps each v2 split's mix; within a stratum dialogs are ranked by a seeded hash,
which makes the choice reproducible and stable when the corpus grows. Stratum quotas use the
largest-remainder rule, so the total is round(fraction x dialogs).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

from pipelines.core import io
from pipelines.core.parquet import read_table
from pipelines.core.splits import stable_fraction


def _quartile_edges(values: list[int]) -> list[int]:
    s = sorted(values)
    return [s[int(len(s) * q)] for q in (0.25, 0.5, 0.75)] if s else []


def select_for_states(build: str, out: str, fraction: float, seed: int) -> dict:
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    dialogs = read_table(build, "dialogs", columns=["dialog_id", "split", "num_turns"]).to_pylist()
    recs = Counter(read_table(build, "rec_samples", columns=["dialog_id"]).column("dialog_id").to_pylist())
    edges = _quartile_edges([d["num_turns"] for d in dialogs])
    strata: dict[tuple, list[str]] = defaultdict(list)
    for d in dialogs:
        length_q = sum(d["num_turns"] > e for e in edges)
        strata[(d["split"], length_q, min(recs.get(d["dialog_id"], 0), 3))].append(d["dialog_id"])
    total = round(fraction * len(dialogs))
    exact = {k: fraction * len(v) for k, v in strata.items()}
    quota = {k: math.floor(x) for k, x in exact.items()}
    rest = total - sum(quota.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - quota[k]), k))[: max(rest, 0)]:
        quota[k] += 1
    lines, per_split = [], Counter()
    for key in sorted(strata):
        ranked = sorted(strata[key], key=lambda did: stable_fraction(did, f"select:{seed}"))
        for did in sorted(ranked[: quota[key]]):
            lines.append(json.dumps({"dialog_id": did, "split": key[0], "stratum": f"{key[0]}/len{key[1]}/rec{key[2]}"}))
            per_split[key[0]] += 1
    io.write_bytes_atomic(out, ("\n".join(lines) + "\n" if lines else "").encode())
    return {"dialogs": len(dialogs), "selected": len(lines), **{f"selected_{k}": v for k, v in sorted(per_split.items())}}
