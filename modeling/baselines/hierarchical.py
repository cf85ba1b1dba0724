"""What the five Table 1 baselines (MHRED, UMD, MAGIC, LARCH, TREASURE) share: the hierarchical
recurrent skeleton of MHRED (Saha et al. 2018) that each later paper builds on, and the gold
dialog state of SeMANTIC's section 5.3 fed as one more dialog turn.

- `GruText`: token ids [N, L] -> [N, d], a bidirectional GRU over the word embeddings (the
  utterance encoder of HRED), its two final states concatenated and projected; also encodes
  product descriptions (the attribute knowledge of MAGIC, LARCH, TREASURE).
- `Hierarchical`: a turn = [utterance vector; sum of its images' projected CNN features] -> d;
  the context GRU runs over the turns; `context(batch)` is its last state. With
  `baseline.gold_states` the sample's gold state (every slot with a value, as the words
  "key value") is encoded by the utterance encoder and appended as the newest turn, for
  training and testing alike (section 5.3: "ground truth dialog states as part of the dialog
  input"); a sample without a state gets no extra turn.
- Products: `product(rows)` -> vectors compared with the context by cosine
  (`modeling.baselines.ranking.CosineRanker`: the ranking hinge in training, cached product
  vectors at evaluation). Subclasses change `turns`, `context`, `product` or `match`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from modeling.baselines.ranking import CosineRanker
from modeling.encoders.bank import Bank


class GruText(nn.Module):
    def __init__(self, embed: nn.Embedding, d: int, dropout: float = 0.0):
        super().__init__()
        self.embed = embed
        self.rnn = nn.GRU(embed.embedding_dim, d, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(-1)
        out = torch.zeros(ids.shape[0], self.out.out_features, device=ids.device)
        keep = (lengths > 0).nonzero(as_tuple=True)[0]
        if len(keep):
            packed = nn.utils.rnn.pack_padded_sequence(
                self.drop(self.embed(ids[keep])), lengths[keep].cpu(), batch_first=True, enforce_sorted=False
            )
            _, h = self.rnn(packed)  # h [2, n, d]
            out = out.index_copy(0, keep, self.out(torch.cat([h[0], h[1]], -1)).to(out.dtype))
        return out


def last_state(rnn: nn.GRU, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A GRU over the valid (left-padded or right-padded) steps of x [B, T, d]: (outputs, last state)."""
    order = torch.argsort((~mask).int(), dim=1, stable=True)  # valid steps first, in their order
    x = torch.gather(x, 1, order.unsqueeze(-1).expand_as(x))
    lengths = mask.sum(1).clamp(min=1)
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, h = rnn(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out, h[-1]


def attend(query: torch.Tensor, memory: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product read of memory [B, N, d] by query [B, d] over the kept slots [B, N] -> [B, d]."""
    att = (memory @ query.unsqueeze(-1)).squeeze(-1) / math.sqrt(memory.shape[-1])
    a = torch.softmax(att.masked_fill(~keep, float("-inf")), -1)
    return (a.unsqueeze(-1) * memory).sum(1)


def steps_kept(out: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Which of `last_state`'s outputs [B, T, d] are real steps (they come first) -> [B, T]."""
    return torch.arange(out.shape[1], device=out.device).unsqueeze(0) < mask.sum(1, keepdim=True)


class Hierarchical(CosineRanker, nn.Module):
    kind = "mhred"

    def __init__(
        self, cfg: dict, vocab_size: int, word_weights: torch.Tensor | None, feature_dim: int, key_tokens=None, bank: Bank | None = None
    ):
        super().__init__()
        b, t = cfg["baseline"], cfg["text"]
        d, p = b["hidden"], b["dropout"]
        self.d = d
        embed_dim = word_weights.shape[1] if word_weights is not None else t["embed_dim"]
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        if word_weights is not None:
            self.embed.weight.data.copy_(word_weights)
        self.embed.weight.requires_grad_(not t["freeze_embeddings"])
        self.utter = GruText(self.embed, d, p)
        self.image = nn.Linear(feature_dim, d)
        self.turn = nn.Sequential(nn.Linear(2 * d, d), nn.Tanh())
        self.context_rnn = nn.GRU(d, d, batch_first=True)
        self.drop = nn.Dropout(p)
        self.margin = cfg["train"]["margin"]
        self.bank = bank
        self.gold_states = bool(b["gold_states"])
        keys = key_tokens if key_tokens is not None else torch.zeros(1, 1, dtype=torch.long)
        self.register_buffer("key_tokens", keys.long(), persistent=False)
        self.register_buffer("value_tokens", torch.zeros(1, keys.shape[1], dtype=torch.long), persistent=False)

    # -- the gold state (section 5.3) ------------------------------------------------------
    def set_state_values(self, value_tokens: torch.Tensor) -> None:
        """Token ids [V, L] of the value vocabulary of the split being read (`StateIndex.values`)."""
        self.value_tokens = value_tokens.long().to(self.key_tokens.device)

    def state_tokens(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """ "key value key value ..." token ids [B, S*2L] (non-pad tokens first) and present [B]."""
        values = batch["state_values"].long()  # [B, S]
        filled = (values > 0) & batch["has_state"].bool().unsqueeze(1)
        keys = self.key_tokens[: values.shape[1]].unsqueeze(0).expand(values.shape[0], -1, -1)
        pair = torch.cat([keys, self.value_tokens[values]], -1) * filled.unsqueeze(-1)  # [B, S, 2L]
        ids = pair.reshape(values.shape[0], -1)
        ids = torch.gather(ids, 1, torch.argsort((ids == 0).int(), dim=1, stable=True))
        return ids, filled.any(1)

    # -- the dialog -------------------------------------------------------------------------
    def turn_images(self, batch: dict) -> torch.Tensor:
        feats, present = self.bank.image(batch["image_rows"])  # [B, T, I, F], [B, T, I]
        return (self.image(feats) * present.unsqueeze(-1)).sum(2)

    def turns(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Turn vectors [B, T(+1), d] and their mask; the gold state is the newest turn when fed."""
        ids, mask = batch["tokens"], batch["turn_mask"].bool()
        b, t, length = ids.shape
        text = self.utter(ids.reshape(b * t, length)).reshape(b, t, -1)
        x = self.turn(torch.cat([self.drop(text), self.drop(self.turn_images(batch))], -1))
        if self.gold_states and "state_values" in batch and batch["state_values"].shape[1]:
            sid, present = self.state_tokens(batch)
            s = self.turn(torch.cat([self.utter(sid), torch.zeros_like(x[:, 0])], -1))
            x, mask = torch.cat([x, s.unsqueeze(1)], 1), torch.cat([mask, present.unsqueeze(1)], 1)
        return x, mask

    def context(self, batch: dict) -> torch.Tensor:
        x, mask = self.turns(batch)
        return last_state(self.context_rnn, x, mask)[1]

    # -- products ---------------------------------------------------------------------------
    def product_image(self, rows: torch.Tensor) -> torch.Tensor:
        _, feats, present = self.bank.product(rows)
        return self.image(feats) * present.unsqueeze(-1)

    def product_text(self, rows: torch.Tensor) -> torch.Tensor:
        ids, _, _ = self.bank.product(rows)
        return self.utter(ids)

    def product(self, rows: torch.Tensor) -> torch.Tensor:
        return self.product_image(rows)


class Knowledge(Hierarchical):
    """The attribute knowledge MAGIC, LARCH and TREASURE add to MHRED: each product is its image
    and its attribute text (the catalogue description, encoded by the utterance GRU) fused into one
    vector, and each image shown in the dialog brings its product's attributes into the context
    (`shown_knowledge`)."""

    def __init__(self, cfg: dict, vocab_size: int, word_weights, feature_dim: int, key_tokens=None, bank: Bank | None = None):
        super().__init__(cfg, vocab_size, word_weights, feature_dim, key_tokens, bank)
        self.fuse = nn.Linear(2 * self.d, self.d)
        owner = torch.full((bank.features.shape[0],), -1, dtype=torch.long)
        image_row = bank.product_image_row
        has = image_row >= 0
        owner[image_row[has] + 1] = torch.arange(len(image_row))[has]  # image row (+1, 0 = none) -> a product showing it
        self.register_buffer("image_owner", owner, persistent=False)

    def product(self, rows: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([self.product_image(rows), self.product_text(rows)], -1))

    def shown_knowledge(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Attribute vectors of the products whose images the context shows [B, T, I, d], present [B, T, I]."""
        rows = batch["image_rows"]
        owner = self.image_owner[(rows + 1).clamp(min=0)]
        present = (rows >= 0) & (owner >= 0)
        used, inv = torch.unique(owner.clamp(min=0), return_inverse=True)
        vecs = self.product_text(used)[inv]
        return vecs * present.unsqueeze(-1), present
