"""Dialog State Interaction module (section 3.2): K hops of cosine attention over the state
embedding, each hop with its own projection W_k.

    S_{k+1} = W_{k+1} S_k
    a_{k+1,i} = w(cos(x_k, S_{k,i})) / sum_j w(cos(x_k, S_{k,j}))
    x_{k+1} = x_k + sum_i a_{k+1,i} S_{k+1,i}

The paper normalises raw cosines (w = identity), which is undefined when they sum to about zero
and gives negative "probabilities" that the Jensen-Shannon loss cannot use. Two positive,
order-keeping choices of w make a a distribution over the states:

- `softmax` (default): w(c) = exp(c / T), a softmax over the cosines with temperature T
  (`semantic.dsi_temperature`, default 0.1). Cosines live in [-1, 1], so without a temperature
  every attention vector is close to uniform.
- `affine`: w(c) = (1 + c) / 2. Measured on trained models: the last hop's attention had
  normalised entropy 0.9995 and the JS loss stayed between 1e-7 and 1e-5 for the whole run, so
  JS (and its ablation) did nothing. Kept for comparison.

W_k starts at zero, so a fresh module passes x through unchanged: with random W_k the shared
state term dominates every vector and co-sim/JS are then trivially met by collapsing all
products onto it (observed; tanh in f saturates and the ranking loss cannot undo it).
One DSI module serves both the dialog and the product side (the paper's "same colour" modules),
so their attention vectors are comparable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-6
ATTENTIONS = ("softmax", "affine")


class DSI(nn.Module):
    def __init__(self, d: int, hops: int, attention: str = "softmax", temperature: float = 0.1):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"semantic.dsi_attention={attention!r}: one of {', '.join(ATTENTIONS)}")
        if attention == "softmax" and not temperature > 0:
            raise ValueError(f"semantic.dsi_temperature={temperature!r}: must be > 0")
        self.W = nn.ModuleList(nn.Linear(d, d, bias=False) for _ in range(hops))
        for W in self.W:  # start as the identity map on x: the states enter as training finds them useful
            nn.init.zeros_(W.weight)
        self.attention = attention
        self.temperature = float(temperature)

    def states(self, S0: torch.Tensor) -> list[torch.Tensor]:
        """[S_0, S_1, ..., S_K] for a state embedding [B, n, d] (computed once, used by both sides)."""
        out = [S0]
        for W in self.W:
            out.append(W(out[-1]))
        return out

    def weights(self, cos: torch.Tensor) -> torch.Tensor:
        """Attention over the last axis from cosines in [-1, 1]."""
        if self.attention == "softmax":
            return torch.softmax(cos / self.temperature, dim=-1)
        w = (1.0 + cos) * 0.5
        return w / (w.sum(-1, keepdim=True) + EPS)

    def forward(self, x: torch.Tensor, S: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, d] or [B, C, d]; S from `states`. Returns (x_K, a_K) with a_K [B, n] or [B, C, n].

        Cosines and the weighted sum are batched matrix products, so a candidate list of C
        products costs [B, C, n] attention weights, never a [B, C, n, d] tensor."""
        single = x.dim() == 2
        if single:
            x = x.unsqueeze(1)
        a = None
        for k in range(len(self.W)):
            Sn = F.normalize(S[k], dim=-1, eps=EPS)
            cos = torch.matmul(F.normalize(x, dim=-1, eps=EPS), Sn.transpose(1, 2))  # [B, C, n]
            a = self.weights(cos)
            x = x + torch.matmul(a, S[k + 1])
        if single:
            return x.squeeze(1), a.squeeze(1)
        return x, a
