"""CLIP-style dual encoder, adapted as in the paper's appendix A.3: the pretrained encoders stay
frozen, only their final linear projections are trained, and self-attention layers over turns
encode the turn-level text and image embeddings; the context and product embeddings are the
concatenation of the text and the image embedding, scored by cosine similarity.

Frozen "CLIP" encoders here: the BERT word embeddings mean-pooled over a turn's tokens (text) and
the precomputed CNN features (images); no text-image pre-training is available offline.
"""

from __future__ import annotations

import torch
from torch import nn

from modeling.baselines.ranking import CosineRanker
from modeling.encoders.bank import Bank
from modeling.encoders.layers import SequenceEncoder


class ClipStyle(CosineRanker, nn.Module):
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
