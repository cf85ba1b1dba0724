"""Products and image features as compact arrays, looked up by id with Arrow's vectorised
`index_in` (no per-row Python dict).

A product is encoded once: its description's token ids and the row of its first image in the
feature matrix (-1 when it has no image with a feature). Both stay numpy arrays, so a catalogue
of a million products costs a few hundred MB, not a Python object per product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modeling.data import tables
from modeling.data.text import tokenize

FEATURES_TABLE = "image_features"


def lookup(ids, index: pa.Array) -> np.ndarray:
    """Row of each id in `index` (a string array), -1 when absent."""
    arr = ids if isinstance(ids, pa.Array | pa.ChunkedArray) else pa.array(list(ids), pa.string())
    rows = pc.index_in(arr, value_set=index)
    return rows.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def standardise(m: np.ndarray) -> np.ndarray:
    """Per-dimension z-scores over the table. Pooled CNN features are non-negative and share a
    large common component (cosines between unrelated images near 1); left in, a cosine-based
    model can meet its co-sim loss by mapping every image to that one direction."""
    if len(m) < 2:
        return m
    mean = m.mean(0, keepdims=True)
    std = m.std(0, keepdims=True)
    return ((m - mean) / np.maximum(std, 1e-6)).astype(np.float32)


@dataclass
class ImageFeatures:
    ids: pa.Array  # image_id per row
    matrix: np.ndarray  # float32 [rows, dim]
    encoder: str

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @classmethod
    def load(cls, folder: str) -> ImageFeatures:
        files = tables.require_files(folder, FEATURES_TABLE)
        ids, mats, encoder = [], [], ""
        for batch in tables.iter_batches(files, ["image_id", "encoder", "feature"], 4096):
            ids.append(batch.column("image_id"))
            feat = batch.column("feature")
            width = len(feat[0]) if len(feat) else 0
            mats.append(feat.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, width))
            encoder = encoder or (batch.column("encoder")[0].as_py() if len(batch) else "")
        if not ids:
            raise tables.DataError(f"{folder}: the image_features table is empty")
        return cls(pa.concat_arrays(ids), standardise(np.concatenate(mats)), encoder)

    @classmethod
    def empty(cls, dim: int) -> ImageFeatures:
        return cls(pa.array([], pa.string()), np.zeros((0, dim), np.float32), "none")


@dataclass
class Catalogue:
    ids: pa.Array  # product_id per row
    tokens: np.ndarray  # int32 [rows, product_tokens]
    image_row: np.ndarray  # int64 [rows] row in ImageFeatures.matrix, -1 none

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, product_ids) -> np.ndarray:
        return lookup(product_ids, self.ids)

    @classmethod
    def load(cls, root: str, tokenizer, max_tokens: int, features: ImageFeatures) -> Catalogue:
        files = tables.require_files(root, "products")
        ids, toks, img = [], [], []
        for batch in tables.iter_batches(files, ["product_id", "description", "image_ids"], 2048):
            ids.append(batch.column("product_id"))
            texts = [t or "" for t in batch.column("description").to_pylist()]
            toks.append(tokenize(tokenizer, texts, max_tokens))
            img.append(lookup(_first_image(batch.column("image_ids")), features.ids))
        return cls(pa.concat_arrays(ids), np.concatenate(toks), np.concatenate(img))


def _first_image(col: pa.Array) -> pa.Array:
    """The first image id of each list (null for null or empty lists)."""
    lengths = pc.fill_null(pc.list_value_length(col), 0)
    has = pc.greater(lengths, 0)
    safe = pc.if_else(has, col, pa.scalar(["\0"], pa.list_(pa.string())))
    first = pc.list_element(safe, 0)
    return pc.if_else(has, first, pa.scalar(None, pa.string()))
