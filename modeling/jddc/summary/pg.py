"""Pointer-Generator network with coverage (See, Liu and Manning 2017), over characters.

- encoder: one bidirectional LSTM over the source embeddings; its final states, reduced by a
  linear layer + ReLU, start the decoder;
- decoder: an LSTM cell fed [y_{t-1} embedding; previous context] (input feeding);
- attention (Bahdanau): e_ti = v^T tanh(W_h h_i + W_s s_t + w_c c_ti + b), a_t = softmax(e_t),
  with the coverage vector c_t = sum_{t'<t} a_t';
- generation probability p_gen = sigmoid(w_h h*_t + w_s s_t + w_x x_t + b);
- final distribution P(w) = p_gen P_vocab(w) + (1 - p_gen) sum_{i: w_i = w} a_ti over the
  vocabulary extended with the source's out-of-vocabulary characters (each example numbers its
  own OOVs after the vocabulary, so a character never seen in training can still be copied);
- loss: -log P(y*_t) + lambda * sum_i min(a_ti, c_ti) (coverage loss, lambda = 1), averaged over
  target tokens. Decoding is greedy; an extended id decodes to its source character.
"""

from __future__ import annotations

import torch
from torch import nn


class PointerGenerator(nn.Module):
    def __init__(self, vocab_size: int, cfg: dict, pad_id: int = 0, unk_id: int = 1):
        super().__init__()
        self.unk_id = unk_id
        e, h = cfg["embed_dim"], cfg["hidden"]
        self.vocab_size, self.pad_id = vocab_size, pad_id
        self.cov_weight = cfg["coverage_weight"]
        self.embed = nn.Embedding(vocab_size, e, padding_idx=pad_id)
        self.encoder = nn.LSTM(e, h, batch_first=True, bidirectional=True)
        self.reduce_h = nn.Linear(2 * h, h)
        self.reduce_c = nn.Linear(2 * h, h)
        self.decoder = nn.LSTMCell(e + 2 * h, h)
        self.w_h = nn.Linear(2 * h, 2 * h, bias=False)
        self.w_s = nn.Linear(h, 2 * h)
        self.w_c = nn.Linear(1, 2 * h, bias=False)
        self.v = nn.Linear(2 * h, 1, bias=False)
        self.p_gen = nn.Linear(2 * h + h + e, 1)
        self.out1 = nn.Linear(3 * h, h)
        self.out2 = nn.Linear(h, vocab_size)

    def _encode(self, src):
        mask = src != self.pad_id
        x = self.embed(src)
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, (h, c) = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        h = torch.relu(self.reduce_h(torch.cat([h[0], h[1]], -1)))
        c = torch.relu(self.reduce_c(torch.cat([c[0], c[1]], -1)))
        return out, self.w_h(out), mask, (h, c)

    def _step(self, y_prev, state, ctx, enc, enc_feat, mask, coverage, src_ext, n_ext):
        x = self.embed(y_prev)
        h, c = self.decoder(torch.cat([x, ctx], -1), state)
        scores = self.v(torch.tanh(enc_feat + self.w_s(h).unsqueeze(1) + self.w_c(coverage.unsqueeze(-1)))).squeeze(-1)
        attn = torch.softmax(scores.masked_fill(~mask, -1e9), -1)
        ctx = torch.bmm(attn.unsqueeze(1), enc).squeeze(1)
        p_gen = torch.sigmoid(self.p_gen(torch.cat([ctx, h, x], -1)))
        vocab = torch.softmax(self.out2(self.out1(torch.cat([h, ctx], -1))), -1)
        dist = torch.cat([p_gen * vocab, vocab.new_zeros(vocab.shape[0], n_ext)], -1)
        dist = dist.scatter_add(1, src_ext, (1 - p_gen) * attn)
        return dist, attn, (h, c), ctx

    def loss(self, batch: dict) -> torch.Tensor:
        src, src_ext, tgt_in, tgt_out = batch["src"], batch["src_ext"], batch["tgt_in"], batch["tgt_out"]
        enc, enc_feat, mask, state = self._encode(src)
        b = src.shape[0]
        ctx = enc.new_zeros(b, enc.shape[-1])
        coverage = enc.new_zeros(src.shape)
        total, n = enc.new_zeros(()), (tgt_out != self.pad_id).sum().clamp(min=1)
        for t in range(tgt_in.shape[1]):
            dist, attn, state, ctx = self._step(tgt_in[:, t], state, ctx, enc, enc_feat, mask, coverage, src_ext, batch["n_ext"])
            gold = tgt_out[:, t]
            keep = (gold != self.pad_id).float()
            nll = -torch.log(dist.gather(1, gold.unsqueeze(1)).squeeze(1) + 1e-12)
            cov = torch.minimum(attn, coverage).sum(1)
            total = total + ((nll + self.cov_weight * cov) * keep).sum()
            coverage = coverage + attn
        return total / n

    @torch.no_grad()
    def generate(self, batch: dict, bos_id: int, eos_id: int, max_len: int) -> list[list[int]]:
        src, src_ext = batch["src"], batch["src_ext"]
        enc, enc_feat, mask, state = self._encode(src)
        b = src.shape[0]
        ctx = enc.new_zeros(b, enc.shape[-1])
        coverage = enc.new_zeros(src.shape)
        y = torch.full((b,), bos_id, dtype=torch.long, device=src.device)
        out = [[] for _ in range(b)]
        done = torch.zeros(b, dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            dist, attn, state, ctx = self._step(y, state, ctx, enc, enc_feat, mask, coverage, src_ext, batch["n_ext"])
            coverage = coverage + attn
            pick = dist.argmax(-1)
            for k in range(b):
                if not done[k]:
                    if int(pick[k]) == eos_id:
                        done[k] = True
                    else:
                        out[k].append(int(pick[k]))
            if bool(done.all()):
                break
            y = torch.where(pick >= self.vocab_size, torch.full_like(pick, self.unk_id), pick)  # a copied OOV feeds back as [UNK]
        return out
