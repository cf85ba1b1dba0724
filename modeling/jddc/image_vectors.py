"""Image feature vectors by image id for the JDDC parsers and summarisers (a session's image
EDUs one by one, rather than part 1's fixed block of recent images per example).

The CNN runs once per build (`modeling.jddc.features.load_features`, the `image_features`
table, computed when missing: ResNet-18 from a local weights file, or the offline
EfficientNet-lite0, or a random-initialised ResNet-18 for tests), standardised per dimension
over the table (pooled CNN features share a large common component) before a model's
feed-forward layer sees them."""

from __future__ import annotations

import numpy as np


class ImageVectors:
    def __init__(self, ids: list[str], matrix: np.ndarray):
        self.matrix = matrix  # standardised per dimension by ImageFeatures.load
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
        from modeling.jddc.features import load_features

        feats = load_features(data, cfg_image, fallback_out, device)
        return cls([str(i) for i in feats.ids.to_pylist()], feats.matrix)
