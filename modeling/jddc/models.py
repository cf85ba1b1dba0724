"""The JDDC baselines' networks, on Hugging Face `transformers` architectures.

- `TextEncoder`: a `BertModel` (from `model.pretrained` or a small config), pooled by the mean
  of its token embeddings (the paper's "averaged token embedding") or its [CLS] state.
- `ImageProjection`: the paper's "dimension transformation based on a feed-forward layer": CNN
  features -> model width, with a learned vector for an empty image slot (so no attention row
  is ever fully masked).
- `GPTGenerator`: `GPT2LMHeadModel` over [image slots] + context/query tokens + target; the loss
  covers the target tokens only. Text-only runs have no image slots.
- `TransResNetRanker` (Shuster et al. 2020 style): a context encoder (text, plus the images'
  projection summed in when multimodal) and a candidate encoder, scored by cosine; trained
  with in-batch negatives.
- `BertClassifier` (text-only: [CLS] -> linear) and `TransResNetClassifier` (multimodal: mean
  text + mean image projection -> MLP) for the rewritable flag.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from modeling.core import hf
from modeling.core.hf import Sizes


def _sizes(cfg: dict, vocab: int, **ids) -> Sizes:
    mc = cfg["model"]
    return Sizes(vocab, mc["hidden"], mc["layers"], mc["heads"], mc["max_positions"], mc["ffn"], mc["dropout"], **ids)


def bert(cfg: dict, vocab: int, pad_id: int):
    return hf.bert(_sizes(cfg, vocab, pad_id=pad_id), cfg["model"].get("pretrained"))


def gpt2(cfg: dict, vocab: int, bos: int, eos: int):
    return hf.gpt2_lm(_sizes(cfg, vocab, bos_id=bos, eos_id=eos), cfg["model"].get("pretrained"))


class ImageProjection(nn.Module):
    def __init__(self, feat_dim: int, width: int, hidden: int = 0):
        super().__init__()
        self.ff = (
            nn.Linear(feat_dim, width) if not hidden else nn.Sequential(nn.Linear(feat_dim, hidden), nn.GELU(), nn.Linear(hidden, width))
        )
        self.empty = nn.Parameter(torch.zeros(width))

    def forward(self, feats: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """feats [B, M, F], present [B, M] bool -> [B, M, width]."""
        x = self.ff(feats)
        return torch.where(present.unsqueeze(-1), x, self.empty.to(x.dtype).expand_as(x))

    def pooled(self, feats: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Mean over present slots (the empty vector when there is none): [B, width]."""
        x = self.ff(feats)
        w = present.unsqueeze(-1).to(x.dtype)
        mean = (x * w).sum(1) / w.sum(1).clamp(min=1)
        return torch.where(present.any(1, keepdim=True), mean, self.empty.to(x.dtype).expand_as(mean))


class TextEncoder(nn.Module):
    def __init__(self, cfg: dict, vocab: int, pad_id: int, pooling: str = "mean"):
        super().__init__()
        self.bert = bert(cfg, vocab, pad_id)
        self.pooling = pooling
        self.width = self.bert.config.hidden_size

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        if self.pooling == "cls":
            return h[:, 0]
        w = mask.unsqueeze(-1).to(h.dtype)
        return (h * w).sum(1) / w.sum(1).clamp(min=1)


def _features(batch: dict, bank: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rows = batch["image_rows"]
    present = rows >= 0
    return bank[rows.clamp(min=0)], present


class GPTGenerator(nn.Module):
    def __init__(self, cfg: dict, tok, feat_dim: int, bank: torch.Tensor | None):
        super().__init__()
        self.lm = gpt2(cfg, tok.vocab_size, tok.bos_id, tok.eos_id)
        self.multimodal = bool(cfg["multimodal"]) and bank is not None
        width = self.lm.config.n_embd
        if self.multimodal:
            self.images = ImageProjection(feat_dim, width, cfg["model"]["image_hidden"])
            self.register_buffer("bank", bank, persistent=False)

    def embed_prefix(self, batch: dict, ids: torch.Tensor) -> torch.Tensor:
        emb = self.lm.get_input_embeddings()(ids)
        if not self.multimodal:
            return emb
        feats, present = _features(batch, self.bank)
        return torch.cat([self.images(feats, present).to(emb.dtype), emb], 1)

    def forward(self, batch: dict):
        """batch: ids [B, L] (prefix + target + eos, right-padded), mask [B, L], labels [B, L]
        (-100 outside the target), image_rows [B, M]."""
        emb = self.embed_prefix(batch, batch["ids"])
        mask, labels = batch["mask"], batch["labels"]
        extra = emb.shape[1] - mask.shape[1]
        if extra:
            mask = torch.cat([mask.new_ones(mask.shape[0], extra), mask], 1)
            labels = torch.cat([labels.new_full((labels.shape[0], extra), -100), labels], 1)
        out = self.lm(inputs_embeds=emb, attention_mask=mask)
        logits = out.logits[:, :-1].float()
        target = labels[:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="sum")
        n = (target != -100).sum()
        return loss / n.clamp(min=1), {"nll_sum": float(loss.detach()), "tokens": int(n)}


class TransResNetRanker(nn.Module):
    def __init__(self, cfg: dict, tok, feat_dim: int, bank: torch.Tensor | None):
        super().__init__()
        self.context = TextEncoder(cfg, tok.vocab_size, tok.pad_id)
        self.candidate = TextEncoder(cfg, tok.vocab_size, tok.pad_id)
        self.multimodal = bool(cfg["multimodal"]) and bank is not None
        width = self.context.width
        if self.multimodal:
            self.images = ImageProjection(feat_dim, width, cfg["model"]["image_hidden"])
            self.register_buffer("bank", bank, persistent=False)
        self.temperature = float(cfg["retrieval"]["temperature"])

    def text_vector(self, batch: dict) -> torch.Tensor:
        """The mean-pooled BERT embedding of context + query (what faiss indexes)."""
        return self.context(batch["ids"], batch["mask"])

    def encode_context(self, batch: dict) -> torch.Tensor:
        v = self.text_vector(batch)
        if self.multimodal:
            feats, present = _features(batch, self.bank)
            v = v + self.images.pooled(feats, present).to(v.dtype)
        return F.normalize(v.float(), dim=-1)

    def encode_candidates(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.candidate(ids, mask).float(), dim=-1)

    def forward(self, batch: dict):
        c = self.encode_context(batch)
        r = self.encode_candidates(batch["cand_ids"], batch["cand_mask"])
        logits = c @ r.T / self.temperature
        # responses repeat (greetings, closings): a duplicate of the gold response is not a negative
        same = batch["cand_key"].unsqueeze(0) == batch["cand_key"].unsqueeze(1)
        eye = torch.eye(len(c), dtype=torch.bool, device=c.device)
        logits = logits.masked_fill(same & ~eye, float("-inf"))
        loss = F.cross_entropy(logits, torch.arange(len(c), device=c.device))
        return loss, {}


class BertClassifier(nn.Module):
    """Text-only: BERT's [CLS] state -> linear -> {not rewritable, rewritable}."""

    def __init__(self, cfg: dict, tok, feat_dim: int = 0, bank=None):
        super().__init__()
        self.text = TextEncoder(cfg, tok.vocab_size, tok.pad_id, pooling="cls")
        self.head = nn.Linear(self.text.width, 2)

    def logits(self, batch: dict) -> torch.Tensor:
        return self.head(self.text(batch["ids"], batch["mask"])).float()

    def forward(self, batch: dict):
        return F.cross_entropy(self.logits(batch), batch["label"], weight=batch.get("class_weight")), {}


class TransResNetClassifier(nn.Module):
    """Multimodal: mean-pooled text encoding + mean image projection -> MLP -> 2 classes."""

    def __init__(self, cfg: dict, tok, feat_dim: int, bank: torch.Tensor):
        super().__init__()
        self.text = TextEncoder(cfg, tok.vocab_size, tok.pad_id)
        width = self.text.width
        self.images = ImageProjection(feat_dim, width, cfg["model"]["image_hidden"])
        self.register_buffer("bank", bank, persistent=False)
        self.head = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, 2))

    def logits(self, batch: dict) -> torch.Tensor:
        t = self.text(batch["ids"], batch["mask"])
        feats, present = _features(batch, self.bank)
        return self.head(t + self.images.pooled(feats, present).to(t.dtype)).float()

    def forward(self, batch: dict):
        return F.cross_entropy(self.logits(batch), batch["label"], weight=batch.get("class_weight")), {}
