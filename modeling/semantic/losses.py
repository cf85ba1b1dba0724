"""SeMANTIC's losses (section 3.4), per sample, so the trainer can mask them by D_F / D_P.

- ranking hinge  L_rk = mean_neg max(0, margin - f(tau, rho+) + f(tau, rho-))
- JS             g(tau, rho) = JS(a^CT, a^PT) + JS(a^CI, a^PI)   (the paper prints JS(a^PI, a^PI),
                 a typo: that term would always be 0)
                 L_JS = mean_neg max(0, g(tau, rho+) - g(tau, rho-))
- co-sim         L_co-sim(rho) = max(0, 1 - cos(x^PT, x^PI)), summed over the sample's products;
                 by default on batch-centred vectors (see `cosim_loss`; `semantic.cosim_centered`)
- MSE            mean over slots and width of (S - S~)^2 between teacher and student states
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-8


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence (natural log) over the last axis; p and q are distributions."""
    p = p.clamp(min=EPS)
    q = q.clamp(min=EPS)
    m = 0.5 * (p + q)
    return 0.5 * (p * (p / m).log()).sum(-1) + 0.5 * (q * (q / m).log()).sum(-1)


def relevance(xCT: torch.Tensor, xCI: torch.Tensor, xPT: torch.Tensor, xPI: torch.Tensor) -> torch.Tensor:
    """f = tanh(cos(x^CT, x^PT) + cos(x^CI, x^PI)); context [B, d] against candidates [B, C, d]."""
    return torch.tanh(F.cosine_similarity(xCT.unsqueeze(1), xPT, dim=-1) + F.cosine_similarity(xCI.unsqueeze(1), xPI, dim=-1))


def rank_loss(scores: torch.Tensor, margin: float) -> torch.Tensor:
    """scores [B, 1 + n] (positive first) -> [B]."""
    return F.relu(margin - scores[:, :1] + scores[:, 1:]).mean(1)


def js_loss(g: torch.Tensor) -> torch.Tensor:
    """g [B, 1 + n] (positive first) -> [B]."""
    return F.relu(g[:, :1] - g[:, 1:]).mean(1)


def cosim_loss(xPT: torch.Tensor, xPI: torch.Tensor, centered: bool = True) -> torch.Tensor:
    """[B, C, d] each -> [B] (sum over the sample's products).

    centered: compare the vectors after removing their mean over every product of the batch
    (a correlation across products). The literal cosine is met trivially by sending every
    product's text and image vector to one shared direction (the DSI state term makes that easy),
    which saturates f and stops the ranking loss; we observed exactly that collapse on synthetic
    data (ranking at chance). Centred, only what distinguishes a product can be aligned."""
    if centered:
        xPT = xPT - xPT.mean(dim=(0, 1), keepdim=True)
        xPI = xPI - xPI.mean(dim=(0, 1), keepdim=True)
    return F.relu(1.0 - F.cosine_similarity(xPT, xPI, dim=-1)).sum(1)


def mse_loss(S: torch.Tensor, S_student: torch.Tensor) -> torch.Tensor:
    """[B, n, d] each -> [B]."""
    return ((S - S_student) ** 2).mean(dim=(1, 2))
