"""Context and product encoders (section 3.1).

Context: per turn v_t^T = SumPool(SelfAttn(W_emb(w) + PE)); C^T = SelfAttn over turns;
v_t^I = sum of the turn's image features (projected); C^I = CrossAttn(C^T, V^I, V^I); c^T and
c^I are the last turn's rows (contexts are right-aligned, so that is index -1).
Product: p^T like v_t^T over the description, p^I like v_t^I over its image; the low-level
encoders (word embeddings, token encoder, image projection) are the same modules as the
context's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from modeling.encoders.bank import Bank
from modeling.encoders.layers import CrossAttention, ImageProjection, SequenceEncoder, TokenEncoder


@dataclass
class ContextRep:
    CT: torch.Tensor  # [B, T, d]
    CI: torch.Tensor  # [B, T, d]
    mask: torch.Tensor  # [B, T] bool

    @property
    def cT(self) -> torch.Tensor:
        return self.CT[:, -1]

    @property
    def cI(self) -> torch.Tensor:
        return self.CI[:, -1]


def encode_turns(tokens: TokenEncoder, ids: torch.Tensor, mask: torch.Tensor, pool: str = "sum") -> torch.Tensor:
    """ids [B, T, L], mask [B, T] -> [B, T, d]; padded turns stay zero and are never encoded."""
    b, t, _ = ids.shape
    flat = ids.reshape(b * t, -1)
    keep = mask.reshape(-1).nonzero(as_tuple=True)[0]
    enc = tokens(flat[keep], pool)
    out = enc.new_zeros(b * t, enc.shape[-1])
    out = out.index_copy(0, keep, enc)
    return out.reshape(b, t, -1)


class ContextEncoder(nn.Module):
    def __init__(self, tokens: TokenEncoder, images: ImageProjection, d: int, heads: int, ffn: int, dropout: float, layers: int):
        super().__init__()
        self.tokens = tokens
        self.images = images
        self.turns = SequenceEncoder(d, heads, ffn, dropout, layers)
        self.cross = CrossAttention(d, heads, ffn, dropout)

    def forward(self, batch: dict, bank: Bank) -> ContextRep:
        mask = batch["turn_mask"]
        VT = encode_turns(self.tokens, batch["tokens"], mask)
        CT = self.turns(VT, mask)
        feats, present = bank.image(batch["image_rows"])
        VI = self.images(feats, present).sum(2)
        CI = self.cross(CT, VI, mask)
        return ContextRep(CT, CI, mask)


class ProductEncoder(nn.Module):
    def __init__(self, tokens: TokenEncoder, images: ImageProjection):
        super().__init__()
        self.tokens = tokens
        self.images = images

    def forward(self, rows: torch.Tensor, bank: Bank) -> tuple[torch.Tensor, torch.Tensor]:
        """catalogue rows [N] -> (p^T [N, d], p^I [N, d])."""
        ids, feats, present = bank.product(rows)
        return self.tokens(ids, "sum"), self.images(feats, present)
