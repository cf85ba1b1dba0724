"""Decoding for `GPTGenerator` with transformers' `generate`, batched.

Prefixes (image slots + context/query tokens) are left-padded and passed as `inputs_embeds` with
their attention mask; `generate` derives positions from the mask, so every example sees the
positions it had in training. Strategies (config `decode`): `greedy`; `beam` (`beam_size`,
`length_penalty`); `sampling` (`temperature`, `top_k`, `top_p`, seeded by `decode.seed`).
Generation stops at [EOS] or after `max_new_tokens`.
"""

from __future__ import annotations

import torch


def generation_kwargs(dc: dict, tok) -> dict:
    strategy = dc["strategy"]
    if strategy not in ("greedy", "beam", "sampling"):
        raise ValueError(f"decode.strategy={strategy!r}: greedy, beam or sampling")
    kw = {
        "max_new_tokens": int(dc["max_new_tokens"]),
        "eos_token_id": tok.eos_id,
        "pad_token_id": tok.pad_id,
        "bos_token_id": tok.bos_id,
        "do_sample": strategy == "sampling",
        "num_beams": int(dc["beam_size"]) if strategy == "beam" else 1,
    }
    if strategy == "beam":
        kw["length_penalty"] = float(dc["length_penalty"])
    if strategy == "sampling":
        kw.update(temperature=float(dc["temperature"]), top_k=int(dc["top_k"]) or None, top_p=float(dc["top_p"]))
    return kw


@torch.no_grad()
def generate_batch(model, tok, prefixes: list[list[int]], image_rows: torch.Tensor, dc: dict) -> list[list[int]]:
    """Generated token ids per prefix (special tokens kept; decode drops them)."""
    device = image_rows.device
    width = max(len(p) for p in prefixes)
    ids = torch.full((len(prefixes), width), tok.pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(prefixes), width), dtype=torch.long, device=device)
    for k, p in enumerate(prefixes):
        ids[k, width - len(p) :] = torch.tensor(p, device=device)
        mask[k, width - len(p) :] = 1
    emb = model.embed_prefix({"image_rows": image_rows}, ids)
    slots = emb.shape[1] - width
    if slots:
        # image slots sit right before each prefix's first token: the left padding goes in front of them
        img, txt = emb[:, :slots], emb[:, slots:]
        pads = [width - len(p) for p in prefixes]
        emb = torch.stack([torch.cat([txt[k, :n], img[k], txt[k, n:]]) for k, n in enumerate(pads)])
        mask = torch.stack([torch.cat([mask.new_zeros(n), mask.new_ones(slots + width - n)]) for n in pads])
    out = model.lm.generate(inputs_embeds=emb, attention_mask=mask, **generation_kwargs(dc, tok))
    return [row.tolist() for row in out]


def generate_all(model, tok, prefixes: list[list[int]], image_rows, dc: dict, device, batch_size: int = 32) -> list[str]:
    """Decoded outputs for every prefix, in order."""
    torch.manual_seed(int(dc["seed"]))
    texts: list[str] = []
    for s in range(0, len(prefixes), batch_size):
        rows = torch.as_tensor(image_rows[s : s + batch_size]).to(device)
        for ids in generate_batch(model, tok, prefixes[s : s + batch_size], rows, dc):
            cut = ids.index(tok.eos_id) if tok.eos_id in ids else len(ids)
            texts.append(tok.decode(ids[:cut]))
    return texts
