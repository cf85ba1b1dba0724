"""Deep Sequential discourse parser (Shi and Huang, AAAI 2019), text-only or multimodal.

For each EDU i in order, the parser picks its parent among the EDUs before it and the relation
of that link, and then extends a **structured representation** along the link it chose, so that
later decisions see the discourse tree built so far:

- local EDU encoder: character embeddings -> bidirectional GRU -> max-pool and final states -> e_i
  (plus a speaker embedding: customer or agent);
- non-structured global encoder: a GRU over e_1..e_n in order -> g_i;
- structured representation: s_root = 0 for the first EDU; after linking i to p with relation r,
  s_i = GRU(s_p, [e_i; emb(r)]) (the path from the root to i, read through its relations);
- link prediction: score(i, j) = w^T tanh(W [e_i; g_i; e_j; g_j; s_j; emb(dist(i, j))]) over
  j < i, softmax over the candidates;
- relation classification: an MLP over the same pair features of (i, parent), Table 12's 33
  level-3 relations.
Training is teacher-forced (the structure follows the gold links, cross-entropy for links and
relations); decoding is greedy in EDU order, each choice feeding the structure of the next ones.

Multimodal (paper section 5.3): an image EDU has no text; its local representation is its image
feature (standardised CNN features) through a feed-forward layer. The text-only parser never
sees image EDUs (discourse.data drops them).

Simplifications, stated: one structure GRU for both speakers (the original keeps speaker-
highlighted copies), and a clipped link-distance embedding in the link scorer.
"""

from __future__ import annotations

import torch
from torch import nn

MAX_DIST = 10


class DeepSequential(nn.Module):
    def __init__(self, vocab_size: int, n_relations: int, cfg: dict, image_dim: int = 0, pad_id: int = 0):
        super().__init__()
        d, emb = cfg["hidden"], cfg["embed_dim"]
        self.pad_id = pad_id
        self.embed = nn.Embedding(vocab_size, emb, padding_idx=pad_id)
        self.edu_rnn = nn.GRU(emb, d // 2, batch_first=True, bidirectional=True)
        self.edu_proj = nn.Linear(2 * d, d)
        self.speaker = nn.Embedding(2, d)
        self.image_ff = nn.Sequential(nn.Linear(image_dim, d), nn.Tanh()) if image_dim else None
        self.global_rnn = nn.GRU(d, d, batch_first=True)
        self.rel_embed = nn.Embedding(n_relations, cfg["relation_dim"])
        self.struct_cell = nn.GRUCell(d + cfg["relation_dim"], d)
        self.dist = nn.Embedding(MAX_DIST + 1, cfg["relation_dim"])
        pair = 5 * d + cfg["relation_dim"]
        self.link = nn.Sequential(nn.Linear(pair, d), nn.Tanh(), nn.Dropout(cfg["dropout"]), nn.Linear(d, 1))
        self.rel = nn.Sequential(nn.Linear(pair, d), nn.Tanh(), nn.Dropout(cfg["dropout"]), nn.Linear(d, n_relations))
        self.drop = nn.Dropout(cfg["dropout"])

    # -- encoders ---------------------------------------------------------------------------
    def encode(self, chars: torch.Tensor, speakers: torch.Tensor, images: torch.Tensor | None, is_image: torch.Tensor):
        """chars [B, N, L] -> e [B, N, d], g [B, N, d]."""
        b, n, length = chars.shape
        flat = chars.view(b * n, length)
        x = self.drop(self.embed(flat))
        out, last = self.edu_rnn(x)
        mask = (flat != self.pad_id).unsqueeze(-1)
        pooled = out.masked_fill(~mask, -1e4).max(1).values
        pooled = torch.where(mask.any(1), pooled, torch.zeros_like(pooled))
        final = torch.cat([last[0], last[1]], -1)
        e = torch.tanh(self.edu_proj(torch.cat([pooled, final], -1))).view(b, n, -1)
        if self.image_ff is not None and images is not None:
            e = torch.where(is_image.unsqueeze(-1), self.image_ff(images), e)
        e = e + self.speaker(speakers)
        g, _ = self.global_rnn(e)
        return e, g

    def _pairs(self, e_i, g_i, e_c, g_c, s_c, i: int) -> torch.Tensor:
        """Features of (EDU i, each candidate j < i): [B, i, pair]."""
        k = e_c.shape[1]
        dist = (i - torch.arange(k, device=e_c.device)).clamp(max=MAX_DIST)
        dist = self.dist(dist).unsqueeze(0).expand(e_c.shape[0], -1, -1)
        left = torch.cat([e_i, g_i], -1).unsqueeze(1).expand(-1, k, -1)
        return torch.cat([left, e_c, g_c, s_c, dist], -1)

    # -- the sequential pass ---------------------------------------------------------------
    def forward(self, batch: dict, gold: bool = True):
        """Returns (link logits per step, relation logits per step, chosen parents [B, N], relations [B, N]).

        With gold=True the structure follows batch['parents'] / batch['relations'] (training);
        otherwise each EDU's predicted link and relation (decoding)."""
        e, g = self.encode(batch["chars"], batch["speakers"], batch.get("images"), batch["is_image"])
        b, n, d = e.shape
        states = [e.new_zeros(b, d)]  # s_0: the first EDU hangs from the root
        link_logits, rel_logits = [], []
        parents = torch.full((b, n), -1, dtype=torch.long, device=e.device)
        relations = torch.full((b, n), -1, dtype=torch.long, device=e.device)
        rows = torch.arange(b, device=e.device)
        for i in range(1, n):
            s_c = torch.stack(states, 1)  # [B, i, d]
            feats = self._pairs(e[:, i], g[:, i], e[:, :i], g[:, :i], s_c, i)
            scores = self.link(feats).squeeze(-1)  # [B, i]
            if gold:
                parent = batch["parents"][:, i].clamp(min=0)
            else:
                parent = scores.argmax(-1)
            pair = feats[rows, parent]  # [B, pair]
            rl = self.rel(pair)
            rel = batch["relations"][:, i].clamp(min=0) if gold else rl.argmax(-1)
            link_logits.append(scores)
            rel_logits.append(rl)
            parents[:, i] = parent
            relations[:, i] = rel
            inp = torch.cat([e[:, i], self.rel_embed(rel)], -1)
            states.append(self.struct_cell(inp, s_c[rows, parent]))
        return link_logits, rel_logits, parents, relations

    def loss(self, batch: dict) -> torch.Tensor:
        link_logits, rel_logits, _, _ = self.forward(batch, gold=True)
        total = batch["chars"].new_zeros((), dtype=torch.float)
        count = 0
        for i, (ll, rl) in enumerate(zip(link_logits, rel_logits, strict=True), start=1):
            target = batch["parents"][:, i]
            ok = target >= 0  # EDUs with a visible gold parent (not padding, not linked to a hidden image)
            if ok.any():
                total = total + nn.functional.cross_entropy(ll[ok], target[ok], reduction="sum")
                total = total + nn.functional.cross_entropy(rl[ok], batch["relations"][:, i][ok], reduction="sum")
                count += int(ok.sum())
        return total / max(count, 1)
