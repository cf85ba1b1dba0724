"""Decoding for `GPTGenerator`, one example at a time (no padding inside a prefix, so image
slots and positions are exactly those of training): greedy, beam search (length-normalised
log-probability, `length_penalty` as exponent) or sampling (temperature, top-k, nucleus top-p,
seeded by `decode.seed`). Settings come from the config's `decode` section.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def generate(model, batch: dict, prefix: list[int], dc: dict, eos_id: int, generator: torch.Generator | None = None) -> list[int]:
    """Token ids generated after `prefix` (without the final [EOS]). `batch` carries image_rows [1, M]."""
    ids = torch.tensor([prefix], dtype=torch.long, device=batch["image_rows"].device)
    if dc["strategy"] == "beam" and dc["beam_size"] > 1:
        return _beam(model, batch, ids, dc, eos_id)
    emb = model.embed_prefix(batch, ids)
    out = model.lm(inputs_embeds=emb, use_cache=True)
    past, logits = out.cache, out.logits[:, -1]
    produced: list[int] = []
    for _ in range(dc["max_new_tokens"]):
        nxt = _pick(logits.float(), dc, generator)
        if nxt == eos_id:
            break
        produced.append(nxt)
        out = model.lm(input_ids=torch.tensor([[nxt]], device=ids.device), cache=past, use_cache=True)
        past, logits = out.cache, out.logits[:, -1]
    return produced


def _pick(logits: torch.Tensor, dc: dict, generator) -> int:
    if dc["strategy"] != "sampling":
        return int(logits.argmax(-1))
    logits = logits[0] / max(float(dc["temperature"]), 1e-6)
    if dc["top_k"]:
        kth = torch.topk(logits, min(int(dc["top_k"]), logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, -1)
    if dc["top_p"] and dc["top_p"] < 1:
        sp, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sp, 0) - sp < float(dc["top_p"])
        probs = torch.zeros_like(probs).scatter(0, order[keep], sp[keep])
    return int(torch.multinomial(probs / probs.sum(), 1, generator=generator))


def _beam(model, batch: dict, ids: torch.Tensor, dc: dict, eos_id: int) -> list[int]:
    k = int(dc["beam_size"])
    beams: list[tuple[list[int], float]] = [([], 0.0)]
    done: list[tuple[list[int], float]] = []
    rows = batch["image_rows"]
    for _ in range(dc["max_new_tokens"]):
        seqs = torch.tensor([ids[0].tolist() + b for b, _ in beams], device=ids.device)
        sub = {"image_rows": rows.expand(len(beams), -1)}
        logp = torch.log_softmax(model.lm(inputs_embeds=model.embed_prefix(sub, seqs)).logits[:, -1].float(), -1)
        cand = []
        for (toks, score), lp in zip(beams, logp, strict=True):
            top = torch.topk(lp, k)
            cand += [(toks + [int(t)], score + float(v)) for v, t in zip(top.values, top.indices, strict=True)]
        cand.sort(key=lambda c: -c[1])
        beams = []
        for toks, score in cand:
            (done if toks[-1] == eos_id else beams).append((toks, score))
            if len(beams) == k:
                break
        if len(done) >= k or not beams:
            break
    pool = done or beams
    lp_exp = float(dc["length_penalty"])
    best = max(pool, key=lambda c: c[1] / max(len(c[0]), 1) ** lp_exp)[0]
    return best[:-1] if best and best[-1] == eos_id else best
