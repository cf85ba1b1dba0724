"""Dialog states per recommendation sample, and the D_F / D_P split.

A sample's state is the latest `dialog_states` row of its dialog at or before the sample's turn
(an as-of join, done by polars on Arrow columns). Slot keys are a fixed, ordered list (the
catalogue attributes seen in the training states, or `loader.slot_keys`); each sample keeps one
value index per key, 0 meaning "none" (the paper's value for a slot not mentioned yet).

D_F is the set of training samples whose dialog has states *and* is selected by
`loader.state_ratio`: a dialog is selected when a hash of its id, read as a number in [0, 1), is
below the ratio. The hash does not depend on the seed, so the D_F of a smaller ratio is a subset
of the D_F of a larger one (as in the paper's 1/5/10/20/100% experiments), and every seed of a
run trains with the same D_F (seeds vary initialisation, data order and dropout only).

D_P is every other training sample; `loader.dp_ratio` < 1 keeps only the D_P dialogs whose
`dp_fraction` (a second, independent hash) is below it, to vary |D_P| with D_F fixed (the
paper's Figure 5 / Table 7).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from modeling.data import tables

NONE_VALUE = "none"
SUPERVISING_SOURCES = ("gold", "annotated")  # predicted states never supervise the teacher
SOURCE_RANK = {"gold": 0, "annotated": 1}


def dialog_fraction(dialog_id: str) -> float:
    """A stable number in [0, 1) for a dialog id (sha1 of the id)."""
    return int.from_bytes(hashlib.sha1(dialog_id.encode("utf-8")).digest()[:8], "big") / 2**64


def dp_fraction(dialog_id: str) -> float:
    """The number that selects a dialog for a D_P subset (`loader.dp_ratio`): a second hash,
    independent of the D_F selection, also seed-independent and nested across ratios."""
    return dialog_fraction(f"dp:{dialog_id}")


def discover_slot_keys(root: str, split: str = "train", limit: int = 16) -> list[str]:
    import polars as pl

    files = tables.table_files(root, "dialog_states", split)
    if not files:
        return []
    st = pl.from_arrow(tables.map_as_pairs(tables.read_columns(files, ["slots"]), "slots"))
    keys = st.select(pl.col("slots").explode().struct.field("key").alias("k")).drop_nulls()
    counts = keys.group_by("k").len().sort(["len", "k"], descending=[True, False])
    return sorted(counts["k"].to_list()[:limit])


@dataclass
class StateIndex:
    slot_keys: list[str]
    values: list[str]  # value vocabulary; values[0] == "none"
    sample_ids: pa.Array  # samples that have a state
    value_idx: np.ndarray  # int32 [len(sample_ids), len(slot_keys)]
    in_df: np.ndarray  # bool [len(sample_ids)]: selected for D_F by the ratio

    @classmethod
    def build(cls, root: str, split: str, slot_keys: list[str], ratio: float) -> StateIndex:
        import polars as pl

        rec_files = tables.require_files(root, "rec_samples", split)
        st_files = tables.table_files(root, "dialog_states", split)
        empty = cls(slot_keys, [NONE_VALUE], pa.array([], pa.string()), np.zeros((0, len(slot_keys)), np.int32), np.zeros(0, bool))
        if not st_files or not slot_keys:
            return empty
        samples = pl.from_arrow(tables.read_columns(rec_files, ["sample_id", "dialog_id", "turn_index"]))
        states = pl.from_arrow(tables.map_as_pairs(tables.read_columns(st_files, ["dialog_id", "turn_index", "slots", "source"]), "slots"))
        states = (
            states.filter(pl.col("source").is_in(list(SUPERVISING_SOURCES)))
            .with_columns(pl.col("source").replace_strict(SOURCE_RANK, default=9).alias("rank"))
            .sort(["dialog_id", "turn_index", "rank"])
            .unique(["dialog_id", "turn_index"], keep="first", maintain_order=True)
            .with_columns(pl.col("turn_index").alias("state_turn"))
            .select(["dialog_id", "turn_index", "state_turn", "slots"])
        )
        if states.height == 0:
            return empty
        joined = samples.sort("turn_index").join_asof(
            states.sort("turn_index"), on="turn_index", by="dialog_id", strategy="backward", check_sortedness=False
        )
        joined = joined.filter(pl.col("state_turn").is_not_null()).sort("sample_id")
        if joined.height == 0:
            return empty
        pairs = joined.select(pl.col("sample_id"), pl.col("slots")).with_row_index("row").explode("slots")
        pairs = pairs.with_columns(
            pl.col("slots").struct.field("key").alias("k"), pl.col("slots").struct.field("value").alias("v")
        ).drop_nulls("k")
        pairs = pairs.filter(pl.col("k").is_in(slot_keys))
        vals = sorted(set(pairs["v"].drop_nulls().to_list()) - {NONE_VALUE})
        values = [NONE_VALUE] + vals
        vocab = {v: i for i, v in enumerate(values)}
        keypos = {k: i for i, k in enumerate(slot_keys)}
        value_idx = np.zeros((joined.height, len(slot_keys)), np.int32)
        if pairs.height:
            r = pairs["row"].to_numpy()
            c = pairs["k"].replace_strict(keypos, return_dtype=pl.Int64).to_numpy()
            v = pairs["v"].fill_null(NONE_VALUE).replace_strict(vocab, return_dtype=pl.Int64).to_numpy()
            value_idx[r, c] = v
        dialog_ids = joined["dialog_id"].to_list()
        chosen = {d: dialog_fraction(d) < ratio for d in set(dialog_ids)}
        in_df = np.asarray([chosen[d] for d in dialog_ids], bool)
        return cls(slot_keys, values, joined["sample_id"].to_arrow().cast(pa.string()), value_idx, in_df)

    def num_df_dialogs(self) -> int:
        return int(self.in_df.sum())
