"""BERTSUMABS (Liu and Lapata 2019), text-only or multimodal.

- encoder: a `transformers` BertModel, from a local pretrained folder (`model.pretrained=PATH`,
  e.g. a Chinese BERT; nothing downloads) or a small BertConfig trained from scratch on the
  build's character vocabulary. The input is [CLS] + the dialogue's utterances, each opened by a
  speaker token, with interval segment ids (utterance k gets segment k mod 2, as BertSum's
  sentences do);
- decoder: a randomly initialised Transformer decoder (`decoder_layers`, `decoder_heads`,
  `decoder_ffn`) whose target embeddings start as a copy of BERT's word embeddings and whose
  output layer is tied to them; label smoothing on the loss;
- **separate optimisers**: Adam for the encoder and Adam for the decoder, each with its own
  learning rate and warm-up under lr * min(step^-0.5, step * warmup^-1.5) (the paper: encoder
  2e-3 / 20,000 steps, decoder 0.1 / 10,000), so the pretrained encoder moves slowly while
  the decoder learns;
- multimodal (paper section 5.4): each image of the dialogue (ResNet-18 features, standardised)
  goes through a feed-forward layer to the model width and is appended to the encoder's output
  (with a learned image-type vector), so the decoder attends over text and images alike.
Decoding is greedy up to `max_target` tokens.
"""

from __future__ import annotations

import torch
from torch import nn


def bert_encoder(cfg: dict, vocab_size: int, pad_id: int):
    from modeling.core import hf

    sizes = hf.Sizes(
        vocab_size,
        cfg["hidden"],
        cfg["encoder_layers"],
        cfg["encoder_heads"],
        cfg["max_source"] + 2,
        cfg["encoder_ffn"],
        cfg["dropout"],
        pad_id=pad_id,
    )
    return hf.bert(sizes, cfg.get("pretrained"))


class BertSumAbs(nn.Module):
    def __init__(self, vocab_size: int, cfg: dict, image_dim: int = 0, pad_id: int = 0):
        super().__init__()
        self.pad_id = pad_id
        self.encoder = bert_encoder(cfg, vocab_size, pad_id)
        d = self.encoder.config.hidden_size
        vocab = self.encoder.config.vocab_size
        self.tgt_embed = nn.Embedding(vocab, d, padding_idx=pad_id)
        self.tgt_embed.weight.data.copy_(self.encoder.embeddings.word_embeddings.weight.data)
        self.tgt_pos = nn.Embedding(cfg["max_target"] + 2, d)
        layer = nn.TransformerDecoderLayer(d, cfg["decoder_heads"], cfg["decoder_ffn"], cfg["dropout"], batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(layer, cfg["decoder_layers"], norm=nn.LayerNorm(d))
        self.out = nn.Linear(d, vocab, bias=False)
        self.out.weight = self.tgt_embed.weight  # tied generator
        self.image_ff = nn.Sequential(nn.Linear(image_dim, d), nn.GELU(), nn.Linear(d, d)) if image_dim else None
        self.image_type = nn.Parameter(torch.zeros(d)) if image_dim else None
        self.smoothing = cfg["label_smoothing"]

    def encoder_parameters(self):
        return list(self.encoder.parameters())

    def decoder_parameters(self):
        enc = {id(p) for p in self.encoder.parameters()}
        return [p for p in self.parameters() if id(p) not in enc]

    def memory(self, batch: dict):
        src = batch["src"]
        mask = src != self.pad_id
        hidden = self.encoder(input_ids=src, attention_mask=mask.long(), token_type_ids=batch["segments"]).last_hidden_state
        if self.image_ff is not None and "images" in batch:
            img = self.image_ff(batch["images"]) + self.image_type
            hidden = torch.cat([hidden, img], 1)
            mask = torch.cat([mask, batch["image_mask"]], 1)
        return hidden, mask

    def _decode(self, tgt_in, memory, mem_mask):
        t = tgt_in.shape[1]
        pos = torch.arange(t, device=tgt_in.device)
        x = self.tgt_embed(tgt_in) + self.tgt_pos(pos)
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool, device=tgt_in.device), 1)
        h = self.decoder(x, memory, tgt_mask=causal, tgt_key_padding_mask=tgt_in == self.pad_id, memory_key_padding_mask=~mem_mask)
        return self.out(h)

    def loss(self, batch: dict) -> torch.Tensor:
        memory, mem_mask = self.memory(batch)
        logits = self._decode(batch["tgt_in"], memory, mem_mask)
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch["tgt_out"].reshape(-1), ignore_index=self.pad_id, label_smoothing=self.smoothing
        )

    @torch.no_grad()
    def generate(self, batch: dict, bos_id: int, eos_id: int, max_len: int) -> list[list[int]]:
        memory, mem_mask = self.memory(batch)
        b = memory.shape[0]
        ys = torch.full((b, 1), bos_id, dtype=torch.long, device=memory.device)
        done = torch.zeros(b, dtype=torch.bool, device=memory.device)
        for _ in range(max_len):
            nxt = self._decode(ys, memory, mem_mask)[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
            ys = torch.cat([ys, nxt.unsqueeze(1)], 1)
            done |= nxt == eos_id
            if bool(done.all()):
                break
        out = []
        for row in ys[:, 1:].tolist():
            out.append(row[: row.index(eos_id)] if eos_id in row else row)
        return out


def noam(step: int, lr: float, warmup: int) -> float:
    """lr * min(step^-0.5, step * warmup^-1.5), the schedule of both BertSumAbs optimisers."""
    step = max(step, 1)
    return lr * min(step**-0.5, step * warmup**-1.5)
