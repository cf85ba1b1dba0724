"""UMD (Cui et al. 2019, "User attention-guided multimodal dialog systems"): MHRED whose image
representation follows the product attribute taxonomy: one projection of the image features per
attribute (taxonomy node), weighted by the user's attention over the taxonomy given the dialog.

Here the taxonomy is the build's slot keys (the catalogue attributes of the dialog states,
`Runtime.slot_keys`); node k has an embedding (its key's words through the utterance encoder)
and an image projection W_k. For a context c, a = softmax(c . e_k / sqrt(d)) and a candidate's
image vector is sum_k a_k W_k x, scored by cos(c, .). The attention is applied to the candidate
images (the ones being ranked); context images keep MHRED's single projection.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from modeling.baselines.hierarchical import Hierarchical


class UMD(Hierarchical):
    kind = "umd"

    def __init__(self, cfg, vocab_size, word_weights, feature_dim, key_tokens=None, bank=None):
        super().__init__(cfg, vocab_size, word_weights, feature_dim, key_tokens, bank)
        k = self.key_tokens.shape[0]
        self.views = nn.Parameter(torch.randn(k, feature_dim, self.d) / math.sqrt(feature_dim))
        self.view_bias = nn.Parameter(torch.zeros(k, self.d))

    def product(self, rows: torch.Tensor) -> torch.Tensor:
        _, feats, present = self.bank.product(rows)
        return feats * present.unsqueeze(-1)  # raw features: the view depends on the dialog (match)

    def attention(self, c: torch.Tensor) -> torch.Tensor:
        nodes = self.utter(self.key_tokens)  # [K, d]
        return torch.softmax(c @ nodes.T / math.sqrt(self.d), -1)  # [B, K]

    def match(self, c: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        a = self.attention(c)
        w = torch.einsum("bk,kfd->bfd", a, self.views)
        v = torch.einsum("bcf,bfd->bcd", p.to(w.dtype), w) + (a @ self.view_bias).unsqueeze(1)
        return F.cosine_similarity(c.unsqueeze(1), v, dim=-1)
