"""MAGIC (Nie et al. 2019, "Multimodal dialog system: generating responses via adaptive
decoders"): a knowledge-aware hierarchical RNN. Each turn's vector joins the utterance, the
turn's images and the knowledge those images bring (their products' attributes); the context GRU
runs over these turns and its last state, attended over all turn states (the adaptive read of the
context), is the dialog vector. Products are image and attributes fused; scored by cosine."""

from __future__ import annotations

import torch
from torch import nn

from modeling.baselines.hierarchical import Knowledge, attend, last_state, steps_kept


class MAGIC(Knowledge):
    kind = "magic"

    def __init__(self, cfg, vocab_size, word_weights, feature_dim, key_tokens=None, bank=None):
        super().__init__(cfg, vocab_size, word_weights, feature_dim, key_tokens, bank)
        self.know = nn.Linear(2 * self.d, self.d)
        self.out = nn.Linear(2 * self.d, self.d)

    def turns(self, batch: dict):
        x, mask = super().turns(batch)
        k, _ = self.shown_knowledge(batch)
        k = k.sum(2)  # [B, T, d]
        if k.shape[1] < x.shape[1]:  # the gold-state turn shows no product
            k = torch.cat([k, k.new_zeros(k.shape[0], x.shape[1] - k.shape[1], k.shape[2])], 1)
        return torch.tanh(self.know(torch.cat([x, k], -1))), mask

    def context(self, batch: dict) -> torch.Tensor:
        x, mask = self.turns(batch)
        out, h = last_state(self.context_rnn, x, mask)
        return self.out(torch.cat([h, attend(h, out, steps_kept(out, mask))], -1))
