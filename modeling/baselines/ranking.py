"""What the baselines share: a context vector and a product vector compared by cosine (or a
model's own `match`), trained with the ranking hinge and scored against cached product vectors
at evaluation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from modeling.semantic.losses import rank_loss


class CosineRanker:
    """Mixin for an nn.Module with `context(batch)`, `product(rows)` and `margin`."""

    def forward(self, batch: dict):
        return self.loss(batch)

    def loss(self, batch: dict):
        c = self.context(batch)
        rows = torch.cat([batch["pos_row"].unsqueeze(1), batch["neg_rows"]], 1)
        used, inv = torch.unique(rows, return_inverse=True)  # encode each product of the batch once
        p = self.product(used)[inv]
        scores = self.match(c, p)
        loss = rank_loss(scores, self.margin).mean()
        return loss, {"rank": float(loss.detach())}

    @torch.no_grad()
    def encode_products(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"p": self.product(rows).float()}

    @torch.no_grad()
    def score(self, batch: dict, cache: dict) -> torch.Tensor:
        c = self.context(batch)
        p = cache["p"][batch["cand_rows"].clamp(min=0)].to(c.dtype)
        return self.match(c, p)

    def match(self, c: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """context [B, ...] x products [B, C, ...] -> scores [B, C]; cosine by default."""
        return F.cosine_similarity(c.unsqueeze(1), p, dim=-1)
