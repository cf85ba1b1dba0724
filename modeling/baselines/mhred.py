"""MHRED (Saha et al. 2018, "Towards building large scale multimodal domain-aware conversation
systems"): a hierarchical encoder whose turn vectors join the utterance's GRU encoding and the
turn's image features; the context GRU's last state is compared with each candidate image's
(projected CNN) features by cosine, trained with a max-margin loss. The skeleton is shared
(`modeling.baselines.hierarchical.Hierarchical`); MHRED is that skeleton unchanged."""

from __future__ import annotations

from modeling.baselines.hierarchical import Hierarchical


class MHRED(Hierarchical):
    kind = "mhred"
