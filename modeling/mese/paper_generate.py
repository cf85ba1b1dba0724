"""Generation as MESE's official evaluation runs it (`--protocol paper`): every system turn, the
turn's gold items given (the sequence continues `[SYSTEM] [REC] [ITEM]...` with the ground-truth
items' ITEs when the turn mentions items, as in training), then the words by sampled beam search.

Sampled beam search (the shape of Hugging Face's `beam_sample`): each step scores every live beam's
next tokens (log-softmax, the special tokens that are not words banned), adds the beam's running
log-probability, samples 2 x beams continuations from the softmax over all of them (without
replacement, a seeded generator), keeps the best `beams` that do not end, and sets aside those that
end with `[EOS]` (the best `beams` of them by length-normalised log-probability); it stops when
`beams` have finished and no live beam's normalised score is above the worst of them, and the best
finished (or, failing those, live) beam is the response. `[PH]` in it is filled with the gold titles.
"""

from __future__ import annotations

import torch

from modeling.mese.batch import Built, build_sequence
from modeling.mese.metrics import fill_placeholders


def sampled_beam_search(step, beams: int, max_new: int, eos: int, generator: torch.Generator) -> list[int]:
    """`step(list of token lists) -> [n, vocab] log-probabilities` of the next token after each
    continuation; returns the chosen continuation's tokens (without `[EOS]`)."""
    live: list[tuple[list[int], float]] = [([], 0.0)]
    done: list[tuple[list[int], float, int]] = []  # (words, log-probability, length with [EOS])
    for _ in range(max_new):
        lp = step([t for t, _ in live])
        vocab = lp.shape[1]
        flat = (lp + torch.tensor([s for _, s in live], dtype=lp.dtype).unsqueeze(1)).reshape(-1)
        k = min(2 * beams, int(torch.isfinite(flat).sum()))
        if k == 0:
            break
        picked = torch.multinomial(torch.softmax(flat, 0), k, replacement=False, generator=generator)
        picked = picked[torch.argsort(flat[picked], descending=True, stable=True)]
        nxt = []
        for i in picked.tolist():
            b, tok = divmod(i, vocab)
            words, score = live[b][0], float(flat[i])
            if tok == eos:
                done.append((words, score, len(words) + 1))
            elif len(nxt) < beams:
                nxt.append((words + [tok], score))
        done = sorted(done, key=_norm, reverse=True)[:beams]
        if not nxt:
            break
        live = nxt
        # Hugging Face's stopping rule: `beams` finished, and no live beam scores above the worst of them
        if len(done) >= beams and max(sc / max(len(w), 1) for w, sc in live) <= _norm(done[-1]):
            break
    pool = done or [(w, sc, len(w)) for w, sc in live]
    return max(pool, key=_norm)[0]


def _norm(hyp: tuple[list[int], float, int]) -> float:
    """Length-normalised log-probability (length penalty 1)."""
    return hyp[1] / max(hyp[2], 1)


def generate_with_gold(rec, split, cache, s, beams: int, max_new: int, generator: torch.Generator) -> tuple[str, str]:
    """(response with titles, templated response) for sample `s`, its gold items given."""
    setup = rec.setup
    tok = setup.tok
    b = build_sequence(split, cache, s, setup.spec, with_target=False)
    gold = list(dict.fromkeys(split.dialogs[s.dialog][s.turn].items))
    toks, slots = list(b.tokens), list(b.slots)
    if gold:
        toks += [tok.rec] + [tok.item] * len(gold)
        slots += [-1] + gold
    limit = int(setup.cfg["model"]["backbone"]["max_positions"]) - 1
    max_new = max(0, min(max_new, limit - len(toks)))
    banned = [tok.pad, tok.item, tok.user, tok.system, tok.unk, tok.rec]

    def step(conts: list[list[int]]) -> torch.Tensor:
        built = [Built(toks + c, slots + [-1] * len(c), [-100] * (len(toks) + len(c)), -1) for c in conts]
        _, _, logits = rec._run(built, [[] for _ in built])
        rows = torch.stack([logits[i, len(toks) + len(c) - 1] for i, c in enumerate(conts)]).float().cpu()
        rows[:, banned] = float("-inf")
        return torch.log_softmax(rows, -1)

    words = sampled_beam_search(step, beams, max_new, tok.eos, generator) if max_new else []
    templated = tok.decode(words)
    return fill_placeholders(templated, [setup.items.titles[i] for i in gold]), templated
