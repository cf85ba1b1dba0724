"""CLIP-style dual encoder, adapted as in the paper's appendix A.3: the pretrained encoders stay
frozen, only their final linear projections are trained, and self-attention layers over turns
encode the turn-level text and image embeddings; the context and product embeddings are the
concatenation of the text and the image embedding, scored by cosine similarity.

Frozen "CLIP" encoders here: the BERT word embeddings mean-pooled over a turn's tokens (text) and
the precomputed CNN features (images); no text-image pre-training is available offline.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modeling.encoders.bank import Bank
from modeling.encoders.layers import SequenceEncoder
from modeling.semantic.losses import rank_loss


class ClipStyle(nn.Module):
    kind = "clip"

    def __init__(
        self, cfg: dict, vocab_size: int, word_weights: torch.Tensor | None, feature_dim: int, key_tokens=None, bank: Bank | None = None
    ):
        super().__init__()
        n, t = cfg["net"], cfg["text"]
        d, h, f, p, layers = n["d_model"], n["heads"], n["ffn"], n["dropout"], n["layers"]
        embed_dim = word_weights.shape[1] if word_weights is not None else t["embed_dim"]
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        if word_weights is not None:
            self.embed.weight.data.copy_(word_weights)
        self.embed.weight.requires_grad_(False)  # the frozen text encoder
        self.text_proj = nn.Linear(embed_dim, d)
        self.image_proj = nn.Linear(feature_dim, d)
        self.text_turns = SequenceEncoder(d, h, f, p, layers)
        self.image_turns = SequenceEncoder(d, h, f, p, layers)
        self.margin = cfg["train"]["margin"]
        self.bank = bank

    def _text(self, ids: torch.Tensor) -> torch.Tensor:
        keep = (ids != 0).unsqueeze(-1).float()
        pooled = (self.embed(ids) * keep).sum(-2) / keep.sum(-2).clamp(min=1)
        return self.text_proj(pooled)

    def context(self, batch: dict) -> torch.Tensor:
        mask = batch["turn_mask"]
        t = self.text_turns(self._text(batch["tokens"]), mask)[:, -1]
        feats, present = self.bank.image(batch["image_rows"])
        v = (self.image_proj(feats) * present.unsqueeze(-1)).sum(2)
        i = self.image_turns(v, mask)[:, -1]
        return torch.cat([t, i], -1)

    def product(self, rows: torch.Tensor) -> torch.Tensor:
        ids, feats, present = self.bank.product(rows)
        return torch.cat([self._text(ids), self.image_proj(feats) * present.unsqueeze(-1)], -1)

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
