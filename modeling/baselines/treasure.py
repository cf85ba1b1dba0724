"""TREASURE (Zhang et al. 2021, "Multimodal dialog system: relational graph-based context-aware
question understanding", ACM MM) represents the dialog context as a graph and brings in side information (product
attributes). Nodes: every turn's utterance, every image the context shows, and each shown
image's product attributes. Edges (both ways, plus self-loops): consecutive utterances, an
utterance and its turn's images, an image and its product's attributes. `baseline.gcn_layers`
graph-convolution layers (mean over neighbours, ReLU, residual) run over the node vectors; the
context is the hierarchical GRU's last state joined with an attention read-out of the graph
(queried by that state). Products are image and attributes fused; scored by cosine.
"""

from __future__ import annotations

import torch
from torch import nn

from modeling.baselines.hierarchical import Knowledge, attend, last_state


class TREASURE(Knowledge):
    kind = "treasure"

    def __init__(self, cfg, vocab_size, word_weights, feature_dim, key_tokens=None, bank=None):
        super().__init__(cfg, vocab_size, word_weights, feature_dim, key_tokens, bank)
        self.gcn = nn.ModuleList(nn.Linear(self.d, self.d) for _ in range(cfg["baseline"]["gcn_layers"]))
        self.out = nn.Linear(2 * self.d, self.d)

    def graph(self, batch: dict, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Node vectors [B, N, d], node mask [B, N] and adjacency [B, N, N] (self-loops included)."""
        b, t, d = x.shape
        feats, shown = self.bank.image(batch["image_rows"])  # [B, T0, I, F]
        t0, i = shown.shape[1], shown.shape[2]
        img = self.image(feats) * shown.unsqueeze(-1)
        know, has = self.shown_knowledge(batch)
        nodes = torch.cat([x, img.reshape(b, t0 * i, d), know.reshape(b, t0 * i, d)], 1)
        keep = torch.cat([mask, shown.reshape(b, -1), has.reshape(b, -1)], 1)
        n = nodes.shape[1]
        adj = torch.zeros(b, n, n, device=x.device)
        u = torch.arange(t, device=x.device)
        adj[:, u[:-1], u[1:]] = 1  # consecutive turns (the gold-state turn follows the newest)
        turn_of = torch.arange(t0, device=x.device).repeat_interleave(i)
        img_ids = t + torch.arange(t0 * i, device=x.device)
        adj[:, turn_of, img_ids] = 1  # utterance - its images
        adj[:, img_ids, img_ids + t0 * i] = 1  # image - its product's attributes
        adj = adj + adj.transpose(1, 2) + torch.eye(n, device=x.device)
        adj = adj * keep.unsqueeze(1) * keep.unsqueeze(2)
        return nodes, keep, adj

    def context(self, batch: dict) -> torch.Tensor:
        x, mask = self.turns(batch)
        _, h = last_state(self.context_rnn, x, mask)
        nodes, keep, adj = self.graph(batch, x, mask)
        norm = adj / adj.sum(-1, keepdim=True).clamp(min=1)
        for layer in self.gcn:
            nodes = nodes + torch.relu(layer(norm @ nodes))
        return self.out(torch.cat([h, attend(h, nodes, keep)], -1))
