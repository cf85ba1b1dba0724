"""LARCH (Nie et al. 2021, "Conversational image search", IEEE TIP): contextual image search with multi-form knowledge interaction through a
memory network. The memory holds the dialog's turns (hierarchical encoder states), the attribute
knowledge of the products the dialog showed, and the attribute taxonomy (the slot keys); the
newest turn queries it for `baseline.hops` hops (q <- q + sum softmax(q . m) m, a shared
read-out per hop). The final query is the context; products are image and attributes fused;
scored by cosine."""

from __future__ import annotations

import torch
from torch import nn

from modeling.baselines.hierarchical import Knowledge, attend, last_state, steps_kept


class LARCH(Knowledge):
    kind = "larch"

    def __init__(self, cfg, vocab_size, word_weights, feature_dim, key_tokens=None, bank=None):
        super().__init__(cfg, vocab_size, word_weights, feature_dim, key_tokens, bank)
        self.hops = nn.ModuleList(nn.Linear(self.d, self.d) for _ in range(cfg["baseline"]["hops"]))

    def context(self, batch: dict) -> torch.Tensor:
        x, mask = self.turns(batch)
        out, q = last_state(self.context_rnn, x, mask)
        k, present = self.shown_knowledge(batch)
        b = x.shape[0]
        taxonomy = self.utter(self.key_tokens).unsqueeze(0).expand(b, -1, -1)
        memory = torch.cat([out, k.reshape(b, -1, self.d), taxonomy], 1)
        keep = torch.cat(
            [steps_kept(out, mask), present.reshape(b, -1), torch.ones(taxonomy.shape[:2], dtype=torch.bool, device=x.device)], 1
        )
        for hop in self.hops:
            q = q + torch.tanh(hop(attend(q, memory, keep)))
        return q
