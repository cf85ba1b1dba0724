"""Text-only baseline: the SeMANTIC context encoder without images or states.

c = last turn of SelfAttn over turns of SumPool(SelfAttn(W_emb(w) + PE)); p = the same token
encoder over the product description; score = cos(c, p); trained with the ranking hinge.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modeling.encoders.bank import Bank
from modeling.encoders.context import encode_turns
from modeling.encoders.layers import SequenceEncoder, TokenEncoder, WordEmbedding
from modeling.semantic.losses import rank_loss


class TextOnly(nn.Module):
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

    def forward(self, batch: dict):
        return self.loss(batch)

    def loss(self, batch: dict):
        c = self.context(batch)
        rows = torch.cat([batch["pos_row"].unsqueeze(1), batch["neg_rows"]], 1)
        used, inv = torch.unique(rows, return_inverse=True)
        p = self.product(used)[inv]
        scores = F.cosine_similarity(c.unsqueeze(1), p, dim=-1)
        loss = rank_loss(scores, self.margin).mean()
        return loss, {"rank": float(loss.detach())}

    @torch.no_grad()
    def encode_products(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"p": self.product(rows).float()}

    @torch.no_grad()
    def score(self, batch: dict, cache: dict) -> torch.Tensor:
        c = self.context(batch)
        p = cache["p"][batch["cand_rows"].clamp(min=0)].to(c.dtype)
        return F.cosine_similarity(c.unsqueeze(1), p, dim=-1)
