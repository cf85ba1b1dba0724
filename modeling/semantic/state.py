"""State encoders (section 4, Figure 3).

Slot keys and values are strings; each is encoded like a turn (word embeddings + PE +
self-attention) with mean pooling, giving S^K_i and S^V_i.

- Teacher: S = SelfAttn(S^K + S^V) from the ground-truth state (values "none" for slots not
  mentioned). With `use_values=False` (section 5.3, "w/o DS") it encodes the keys alone.
- Student: predicts the values from the context, S~V = CrossAttn(S^K, C^T + C^I), then
  S~ = SelfAttn(S^K + S~V).
"""

from __future__ import annotations

import torch
from torch import nn

from modeling.encoders.context import ContextRep
from modeling.encoders.layers import CrossAttention, SequenceEncoder, TokenEncoder


class SlotStrings(nn.Module):
    """Token ids of the slot keys and of the value vocabulary, as buffers (kept in checkpoints for
    the keys; the value table is set again from the data when training)."""

    def __init__(self, key_tokens: torch.Tensor, value_tokens: torch.Tensor):
        super().__init__()
        self.register_buffer("key_tokens", key_tokens.long())
        self.register_buffer("value_tokens", value_tokens.long(), persistent=False)

    @property
    def num_slots(self) -> int:
        return int(self.key_tokens.shape[0])


class TeacherStateEncoder(nn.Module):
    def __init__(self, d: int, heads: int, ffn: int, dropout: float, layers: int, use_values: bool = True):
        super().__init__()
        self.learner = SequenceEncoder(d, heads, ffn, dropout, layers)
        self.use_values = use_values

    def forward(self, SK: torch.Tensor, tokens: TokenEncoder, value_tokens: torch.Tensor, value_idx: torch.Tensor) -> torch.Tensor:
        """SK [n, d]; value_idx [B, n] rows of value_tokens. Returns S [B, n, d]."""
        S = SK.unsqueeze(0).expand(value_idx.shape[0], -1, -1)
        if self.use_values:
            used, inverse = torch.unique(value_idx, return_inverse=True)
            SV = tokens(value_tokens[used], "mean")[inverse]
            S = S + SV
        return self.learner(S)


class StudentStateEncoder(nn.Module):
    def __init__(self, d: int, heads: int, ffn: int, dropout: float, layers: int):
        super().__init__()
        self.predictor = CrossAttention(d, heads, ffn, dropout)
        self.learner = SequenceEncoder(d, heads, ffn, dropout, layers)

    def forward(self, SK: torch.Tensor, ctx: ContextRep) -> torch.Tensor:
        Cbar = ctx.CT + ctx.CI
        q = SK.unsqueeze(0).expand(Cbar.shape[0], -1, -1)
        SV = self.predictor(q, Cbar, ctx.mask)
        return self.learner(q + SV)
