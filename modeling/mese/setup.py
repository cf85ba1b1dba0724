"""What a MESE run needs besides weights: items, splits, tokenizers and the item token matrix.

The from-scratch tokenizer is trained on the train split (turns and item texts) the first time a
run folder is used and saved there; evaluation and resumed runs load it from the folder."""

from __future__ import annotations

import os
from dataclasses import dataclass

from modeling.data.tables import DataError
from modeling.mese.batch import SeqSpec, TurnCache, item_token_matrix
from modeling.mese.data import Items, Split, corpus_texts, load_items, load_split
from modeling.mese.tokens import TOKENIZER_FILE, Tok, load_hf_tokenizer, load_tokenizer, train_tokenizer


@dataclass
class Setup:
    cfg: dict
    items: Items
    tok: Tok  # backbone
    item_tok: Tok  # item encoders
    spec: SeqSpec

    @classmethod
    def create(cls, cfg: dict, folder: str, data: str | None = None) -> Setup:
        root = data or cfg["data"]
        if not root or not os.path.isdir(root):
            raise DataError(f"data={root!r}: give a ReDial or INSPIRED build folder (data=DIR)")
        items = load_items(root)
        mc = cfg["model"]
        if mc.get("pretrained"):
            tok = load_hf_tokenizer(os.path.join(mc["pretrained"], "backbone"))
            item_tok = load_hf_tokenizer(os.path.join(mc["pretrained"], "item_encoder"))
        else:
            if os.path.exists(os.path.join(folder, TOKENIZER_FILE)):
                tok = load_tokenizer(folder)
            else:
                tok = train_tokenizer(corpus_texts(load_split(root, "train", items), items), int(mc["vocab_size"]))
                os.makedirs(folder, exist_ok=True)
                tok.save(folder)
            item_tok = tok
        s = cfg["sequence"]
        spec = SeqSpec(
            int(s["max_context_tokens"]), int(s["max_response_tokens"]), int(s["max_item_tokens"]), bool(s.get("context_items", True))
        )
        return cls(cfg, items, tok, item_tok, spec)

    def split(self, name: str, data: str | None = None) -> Split:
        return load_split(data or self.cfg["data"], name, self.items)

    def cache(self, split: Split) -> TurnCache:
        return TurnCache(split, self.tok)

    def build_model(self):
        import torch

        from modeling.mese.model import MESE

        ids, mask = item_token_matrix(self.items, self.item_tok, self.spec.max_item_tokens, bool(self.cfg["model"]["content"]))
        return MESE(self.cfg, len(self.tok), len(self.item_tok), torch.from_numpy(ids), torch.from_numpy(mask))
