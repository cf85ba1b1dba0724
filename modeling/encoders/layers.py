"""Building blocks shared by SeMANTIC and the baselines (section 3.1 of the paper).

- `WordEmbedding`: BERT's word-embedding matrix W_emb (or a random one for tests), projected to
  the model width; shared by every text encoder of a model.
- `TokenEncoder`: U_t = W_emb(w) + PE, SelfAttn over the tokens of one turn, then sum pooling
  (turns, products) or mean pooling (slot keys and values).
- `SequenceEncoder`: self-attention over a sequence of vectors (turns, slots) with a padding mask.
- `CrossAttention`: queries from one sequence attend to another (C^I from C^T over V^I; the
  student's value predictor).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal(max_len: int, d: int) -> torch.Tensor:
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(max_len, d)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: d // 2])
    return pe


class WordEmbedding(nn.Module):
    def __init__(self, weights: torch.Tensor | None, vocab: int, embed_dim: int, d_model: int, freeze: bool = False, pad_id: int = 0):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed_dim, padding_idx=pad_id)
        if weights is not None:
            self.embed.weight.data.copy_(weights)
        self.embed.weight.requires_grad_(not freeze)
        self.proj = nn.Linear(embed_dim, d_model)
        self.pad_id = pad_id

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj(self.embed(ids))


def transformer(d: int, heads: int, ffn: int, dropout: float, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout, batch_first=True, norm_first=False)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class TokenEncoder(nn.Module):
    """Token ids [N, L] -> one vector per row [N, d]. Rows must hold at least one non-pad token."""

    def __init__(self, words: WordEmbedding, d: int, heads: int, ffn: int, dropout: float, layers: int, max_len: int = 512):
        super().__init__()
        self.words = words
        self.register_buffer("pe", sinusoidal(max_len, d), persistent=False)
        self.encoder = transformer(d, heads, ffn, dropout, layers)

    def forward(self, ids: torch.Tensor, pool: str = "sum") -> torch.Tensor:
        pad = ids == self.words.pad_id
        x = self.words(ids) + self.pe[: ids.shape[1]]
        x = self.encoder(x, src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).to(x.dtype)
        total = (x * keep).sum(1)
        if pool == "mean":
            return total / keep.sum(1).clamp(min=1)
        return total


class SequenceEncoder(nn.Module):
    """SelfAttn(V, V, V) over [B, T, d] with `mask` [B, T] (True = real)."""

    def __init__(self, d: int, heads: int, ffn: int, dropout: float, layers: int):
        super().__init__()
        self.encoder = transformer(d, heads, ffn, dropout, layers)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x, src_key_padding_mask=None if mask is None else ~mask)


class CrossAttention(nn.Module):
    """CrossAttn(Q, K, V): multi-head attention, then a position-wise feed-forward block."""

    def __init__(self, d: int, heads: int, ffn: int, dropout: float):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ffn), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn, d))
        self.norm2 = nn.LayerNorm(d)

    def forward(self, q: torch.Tensor, kv: torch.Tensor, kv_mask: torch.Tensor | None = None) -> torch.Tensor:
        out, _ = self.attn(q, kv, kv, key_padding_mask=None if kv_mask is None else ~kv_mask, need_weights=False)
        out = self.norm1(out)
        return self.norm2(out + self.ff(out))


class ImageProjection(nn.Module):
    """Precomputed CNN features [.., D_img] -> [.., d]; rows with `present` False give zeros."""

    def __init__(self, feature_dim: int, d: int):
        super().__init__()
        self.proj = nn.Linear(feature_dim, d, bias=False)  # no bias: a missing image stays zero, no shared offset

    def forward(self, feats: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return self.proj(feats) * present.unsqueeze(-1).to(feats.dtype)
