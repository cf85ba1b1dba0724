"""Text-only baseline: the SeMANTIC context encoder without images or states.

c = last turn of SelfAttn over turns of SumPool(SelfAttn(W_emb(w) + PE)); p = the same token
encoder over the product description; score = cos(c, p); trained with the ranking hinge.
"""

from __future__ import annotations

import torch
from torch import nn

from modeling.baselines.ranking import CosineRanker
from modeling.encoders.bank import Bank
from modeling.encoders.context import encode_turns
from modeling.encoders.layers import SequenceEncoder, TokenEncoder, WordEmbedding


class TextOnly(CosineRanker, nn.Module):
    kind = "text"

    def __init__(
        self, cfg: dict, vocab_size: int, word_weights: torch.Tensor | None, feature_dim: int, key_tokens=None, bank: Bank | None = None
    ):
        super().__init__()
        n, t = cfg["net"], cfg["text"]
        d, h, f, p, layers = n["d_model"], n["heads"], n["ffn"], n["dropout"], n["layers"]
        embed_dim = word_weights.shape[1] if word_weights is not None else t["embed_dim"]
        self.words = WordEmbedding(word_weights, vocab_size, embed_dim, d, t["freeze_embeddings"])
        self.tokens = TokenEncoder(self.words, d, h, f, p, layers)
        self.turns = SequenceEncoder(d, h, f, p, layers)
        self.margin = cfg["train"]["margin"]
        self.bank = bank

    def context(self, batch: dict) -> torch.Tensor:
        mask = batch["turn_mask"]
        return self.turns(encode_turns(self.tokens, batch["tokens"], mask), mask)[:, -1]

    def product(self, rows: torch.Tensor) -> torch.Tensor:
        ids, _, _ = self.bank.product(rows)
        return self.tokens(ids, "sum")
