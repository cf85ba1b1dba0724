"""MESE: two DistilBERT item encoders and a GPT-2 backbone trained on three losses (section 3).

- `ItemEncoder`: DistilBERT over the `[SEP]`-joined metadata, mean pooling over real tokens, a
  feed-forward layer to the backbone's width (3.1, Figure 1).
- `select_encoder` makes the candidate embeddings C for candidate selection (3.2.1); the
  `ite_encoder` makes the item token embeddings put into the backbone's input, both for the
  mentioned items of the context (Figure 2) and for the ranking candidates T (3.2.2).
- L_select: cross-entropy of the ground truth against the sampled items, scores c_i . D_R (eq. 1).
- L_rank: a linear head on the backbone's output at each candidate, cross-entropy (eq. 2).
- L_res: the language-model loss on the system turn, `[PH]` in place of titles (eq. 3, 4).
- Loss = a L_select + b L_rank + c L_res (eq. 5).
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from modeling.core import hf
from modeling.core.hf import Sizes


class ItemEncoder(nn.Module):
    def __init__(self, bert: nn.Module, out_dim: int):
        super().__init__()
        self.bert = bert
        self.proj = nn.Linear(bert.config.dim, out_dim)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(h.dtype)
        return self.proj((h * m).sum(1) / m.sum(1).clamp(min=1.0))


def match_token_scale(encoder: ItemEncoder, wte: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, sample: int = 64) -> None:
    """Initialise the ITE projection so item token embeddings enter the backbone at the scale of
    its word embeddings (rms measured on the first `sample` items). With the default init they were
    7x larger (rms 0.14 vs 0.02 from scratch), two thirds of it the direction shared by all items,
    so at a ranking slot the residual stream was the candidate alone and the context (attention
    output, init scale 0.02) could barely change its score: L_rank stayed near chance and the ITE
    learnt no genre structure."""
    proj = encoder.proj
    was = encoder.training
    encoder.eval()
    with torch.no_grad():
        n = min(sample, ids.shape[0])
        h = encoder.bert(input_ids=ids[:n], attention_mask=mask[:n]).last_hidden_state
        m = mask[:n].unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        target = float(wte.float().pow(2).mean().sqrt())
        got = float(pooled.float().pow(2).mean().sqrt()) * proj.in_features**0.5
        nn.init.normal_(proj.weight, std=target / max(got, 1e-6))
        nn.init.zeros_(proj.bias)
    encoder.train(was)


def _distilbert(mc: dict, vocab: int, pretrained: str | None) -> nn.Module:
    e = mc["encoder"]
    sizes = Sizes(vocab, e["dim"], e["layers"], e["heads"], e["max_positions"], e["ffn"], mc["dropout"], 0.0, pad_id=0, sdpa=True)
    return hf.distilbert(sizes, pretrained, resize_to=vocab if pretrained else None)


def _gpt2(mc: dict, vocab: int, pretrained: str | None) -> nn.Module:
    b = mc["backbone"]
    sizes = Sizes(vocab, b["dim"], b["layers"], b["heads"], b["max_positions"], None, mc["dropout"], 0.0, sdpa=True)
    return hf.gpt2_lm(sizes, pretrained, resize_to=vocab if pretrained else None)


class MESE(nn.Module):
    def __init__(self, cfg: dict, vocab: int, item_vocab: int, item_ids: torch.Tensor, item_mask: torch.Tensor):
        super().__init__()
        mc = cfg["model"]
        root = mc.get("pretrained")
        bb = os.path.join(root, "backbone") if root else None
        ie = os.path.join(root, "item_encoder") if root else None
        self.backbone = _gpt2(mc, vocab, bb)
        hidden = self.backbone.config.n_embd
        self.select_encoder = ItemEncoder(_distilbert(mc, item_vocab, ie), hidden)
        self.ite_encoder = ItemEncoder(_distilbert(mc, item_vocab, ie), hidden)
        self.rank_head = nn.Linear(hidden, 1)
        match_token_scale(self.ite_encoder, self.backbone.transformer.wte.weight, item_ids, item_mask)
        w = cfg["loss"]
        self.weights = (float(w["select"]), float(w["rank"]), float(w["response"]))
        self.register_buffer("item_ids", item_ids, persistent=False)
        self.register_buffer("item_mask", item_mask, persistent=False)

    # -- item embeddings ------------------------------------------------------------------------
    def encode_items(self, encoder: ItemEncoder, idx: torch.Tensor) -> torch.Tensor:
        mask = self.item_mask[idx]
        width = max(int(mask.sum(1).max()), 1) if idx.numel() else 1  # trim the batch's common padding
        return encoder(self.item_ids[idx][:, :width], mask[:, :width])

    def encode_all(self, encoder: ItemEncoder, chunk: int = 512) -> torch.Tensor:
        n = self.item_ids.shape[0]
        dev = self.item_ids.device
        return torch.cat([self.encode_items(encoder, torch.arange(s, min(s + chunk, n), device=dev)) for s in range(0, n, chunk)])

    # -- the backbone over interleaved word and item token embeddings ---------------------------
    def embed(self, input_ids: torch.Tensor, slots: torch.Tensor, ite_table: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.backbone.transformer.wte(input_ids)
        mask = slots >= 0
        if mask.any():
            if ite_table is None:
                uniq, inv = torch.unique(slots[mask], return_inverse=True)
                vals = self.encode_items(self.ite_encoder, uniq)[inv]
            else:
                vals = ite_table[slots[mask]]
            emb = emb.clone()
            emb[mask] = vals.to(emb.dtype)
        return emb

    def run(self, batch: dict, ite_table: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(last hidden states, LM logits) of a collated batch."""
        emb = self.embed(batch["input_ids"], batch["slots"], ite_table)
        allowed = batch["allowed"]
        bias = torch.zeros(allowed.shape, dtype=emb.dtype, device=emb.device).masked_fill(~allowed, torch.finfo(emb.dtype).min)
        out = self.backbone.transformer(inputs_embeds=emb, attention_mask=bias, position_ids=batch["position_ids"])
        h = out.last_hidden_state
        return h, self.backbone.lm_head(h)

    def rank_scores(self, h: torch.Tensor, batch: dict) -> torch.Tensor:
        S, C = batch["cand_start"], batch["cand"].shape[1]
        return self.rank_head(h[:, S : S + C]).squeeze(-1)

    def d_r(self, h: torch.Tensor, rec_pos: torch.Tensor) -> torch.Tensor:
        return h[torch.arange(h.shape[0], device=h.device), rec_pos.clamp(min=0)]

    # -- training -------------------------------------------------------------------------------
    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        a, b, c = self.weights
        h, logits = self.run(batch)
        targets = batch["targets"][:, 1:]
        lm = logits[:, :-1]
        l_res = F.cross_entropy(lm.reshape(-1, lm.shape[-1]).float(), targets.reshape(-1), ignore_index=-100)
        parts = {"L_res": float(l_res.detach())}
        loss = c * l_res
        if batch["pair_b"].numel() and (a or b):
            pb, pc, pm = batch["pair_b"], batch["pair_c"], batch["pair_mask"]
            cand = batch["cand"]
            valid = cand >= 0
            uniq, inv = torch.unique(cand[valid], return_inverse=True)
            c_emb = torch.zeros((*cand.shape, h.shape[-1]), dtype=h.dtype, device=h.device)
            c_emb[valid] = self.encode_items(self.select_encoder, uniq)[inv].to(h.dtype)
            sel = torch.einsum("bch,bh->bc", c_emb, self.d_r(h, batch["rec_pos"])).float()
            l_sel = _pair_ce(sel, pb, pc, pm)
            l_rank = _pair_ce(self.rank_scores(h, batch).float(), pb, pc, pm)
            loss = loss + a * l_sel + b * l_rank
            parts.update(L_select=float(l_sel.detach()), L_rank=float(l_rank.detach()))
        return loss, parts


def _pair_ce(scores: torch.Tensor, pb: torch.Tensor, pc: torch.Tensor, pm: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each (sample, positive column) pair over its allowed columns."""
    s = scores[pb].masked_fill(~pm, float("-inf"))
    return F.cross_entropy(s, pc)
