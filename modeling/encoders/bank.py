"""Device-side lookup tables a model reads batches through: image features and the product
catalogue (token ids, image row). Batches carry only integer rows, so a step moves indices, not
feature vectors. The bank is rebuilt from the data at run time and is never saved in checkpoints."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Bank(nn.Module):
    def __init__(self, features: np.ndarray, product_tokens: np.ndarray, product_image_row: np.ndarray):
        super().__init__()
        feats = np.concatenate([np.zeros((1, features.shape[1]), np.float32), features.astype(np.float32)])
        self.register_buffer("features", torch.from_numpy(feats), persistent=False)
        self.register_buffer("product_tokens", torch.from_numpy(product_tokens.astype(np.int64)), persistent=False)
        self.register_buffer("product_image_row", torch.from_numpy(product_image_row.astype(np.int64)), persistent=False)

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    def image(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """rows (any shape, -1 = none) -> (features [..., D], present [...])."""
        present = rows >= 0
        return self.features[(rows + 1).clamp(min=0)], present

    def product(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """catalogue rows [N] -> (token ids [N, L], image features [N, D], image present [N])."""
        feats, present = self.image(self.product_image_row[rows])
        return self.product_tokens[rows], feats, present

    @classmethod
    def from_data(cls, features, catalogue) -> Bank:
        return cls(features.matrix, catalogue.tokens, catalogue.image_row)
