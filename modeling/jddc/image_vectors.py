"""Image feature vectors by image id for the JDDC parsers and summarisers.

The CNN runs once per build (`modeling.data.features.ensure_features`, the `image_features`
table, computed when missing: ResNet-18 from a local weights file, or the offline
EfficientNet-lite0, or a random-initialised ResNet-18 for tests). Pooled CNN features share a
large common component, so each dimension is standardised over the table before a model's
feed-forward layer sees it."""

from __future__ import annotations

import numpy as np


class ImageVectors:
    def __init__(self, ids: list[str], matrix: np.ndarray):
        mean, std = matrix.mean(0, keepdims=True), matrix.std(0, keepdims=True) + 1e-6
        self.matrix = ((matrix - mean) / std).astype(np.float32)
        self.index = {i: k for k, i in enumerate(ids)}

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def get(self, image_ids: list[str]) -> np.ndarray | None:
        """The mean vector of the ids that have features, else None."""
        rows = [self.index[i] for i in image_ids if i in self.index]
        return self.matrix[rows].mean(0) if rows else None

    @classmethod
    def load(cls, data: str, cfg_image: dict, fallback_out: str, device: str = "cpu") -> ImageVectors:
        from modeling.data.catalogue import ImageFeatures
        from modeling.data.features import ensure_features

        root = ensure_features(data, cfg_image, fallback_out, device)
        feats = ImageFeatures.load(root)
        return cls([str(i) for i in feats.ids.to_pylist()], feats.matrix)
