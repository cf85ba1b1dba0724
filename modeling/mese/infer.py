"""Inference (section 3.5, Appendix A): faiss selection from D_R, co-occurrence blending, ranking by
the backbone and its head, and generation that recommends when it emits `[REC]`.

All item embeddings of the selection encoder sit in a faiss inner-product index (exact,
`IndexFlatIP`: the paper's scores are dot products); the K nearest to D_R are the candidates,
plus the items that co-occurred in a training dialog with an item the context mentions. The
ranking head scores the candidates in one pass (candidates appended after `[REC]`, as in training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from modeling.mese.batch import Built, TurnCache, build_sequence, collate
from modeling.mese.data import Sample, Split
from modeling.mese.metrics import fill_placeholders
from modeling.train.evaluate import autocast, to_device


@dataclass
class Ranked:
    candidates: list[int]  # selection's candidates, in ranking order
    ranking: np.ndarray  # the whole catalogue: ranked candidates, then the rest by selection score


class Recommender:
    def __init__(self, model, setup, cooc: dict[int, set[int]] | None, k: int, device, precision: str = "auto"):
        import faiss

        self.model, self.setup, self.cooc, self.device, self.precision = model, setup, cooc or {}, device, precision
        model.eval()
        with torch.no_grad(), autocast(device, precision):
            self.sel = model.encode_all(model.select_encoder).float()
            self.ite = model.encode_all(model.ite_encoder).float()
        self.index = faiss.IndexFlatIP(self.sel.shape[1])
        self.index.add(np.ascontiguousarray(self.sel.cpu().numpy(), dtype=np.float32))
        self.k = min(int(k), self.sel.shape[0])

    def _run(self, built: list[Built], cands: list[list[int]]):
        tok = self.setup.tok
        batch = to_device(collate(built, cands, [[] for _ in built], tok.pad, tok.item), self.device)
        with torch.no_grad(), autocast(self.device, self.precision):
            h, logits = self.model.run(batch, self.ite)
        return batch, h.float(), logits.float()

    def recommend(self, split: Split, cache: TurnCache, samples: list[Sample], batch_size: int = 16) -> list[Ranked]:
        out = []
        for s0 in range(0, len(samples), batch_size):
            chunk = samples[s0 : s0 + batch_size]
            built = [build_sequence(split, cache, s, self.setup.spec, with_target=False, force_rec=True) for s in chunk]
            batch, h, _ = self._run(built, [[] for _ in built])
            d_r = self.model.d_r(h, batch["rec_pos"]).detach()
            sel = (d_r @ self.sel.T).cpu().numpy()
            _, nn = self.index.search(np.ascontiguousarray(d_r.cpu().numpy(), dtype=np.float32), self.k)
            cands = []
            for s, row in zip(chunk, nn, strict=True):
                c = [int(i) for i in row if i >= 0]
                seen = set(c)
                for j in range(s.turn):
                    for i in split.dialogs[s.dialog][j].items:
                        for o in sorted(self.cooc.get(i, ())):
                            if o not in seen:
                                seen.add(o)
                                c.append(o)
                cands.append(c)
            batch, h, _ = self._run(built, cands)
            with torch.no_grad():
                scores = self.model.rank_scores(h, batch).float().cpu().numpy()
            for b, c in enumerate(cands):
                order = [c[j] for j in np.argsort(-scores[b, : len(c)], kind="stable")]
                inside = set(c)
                rest = [i for i in np.argsort(-sel[b], kind="stable") if int(i) not in inside]
                out.append(Ranked(order, np.asarray(order + [int(i) for i in rest], dtype=np.int64)))
        return out

    def generate(
        self, split: Split, cache: TurnCache, s: Sample, ranked: Ranked, max_new: int, force_rec: bool = False
    ) -> tuple[str, str, list[int]]:
        """Greedy decoding of the system turn; each `[REC]` appends the next best item's ITE.
        `force_rec` starts the turn with `[REC]` (a turn labelled as a recommendation).
        Returns (final response with titles, templated response, recommended items)."""
        tok = self.setup.tok
        b = build_sequence(split, cache, s, self.setup.spec, with_target=False)
        toks, slots = list(b.tokens), list(b.slots)
        banned = [tok.pad, tok.item, tok.user, tok.system, tok.unk]
        words, recommended = [], []
        for step_no in range(max_new):
            if len(toks) >= self.setup.cfg["model"]["backbone"]["max_positions"] - 1:
                break
            _, _, logits = self._run([Built(toks, slots, [-100] * len(toks), -1)], [[]])
            step = logits[0, len(toks) - 1]
            step[banned] = float("-inf")
            nxt = tok.rec if force_rec and step_no == 0 else int(step.argmax())
            if nxt == tok.eos:
                break
            if nxt == tok.rec:
                pick = next((int(i) for i in ranked.ranking if int(i) not in recommended), None)
                toks.append(tok.rec)
                slots.append(-1)
                if pick is not None:
                    recommended.append(pick)
                    toks.append(tok.item)
                    slots.append(pick)
                continue
            toks.append(nxt)
            slots.append(-1)
            words.append(nxt)
        templated = tok.decode(words)
        final = fill_placeholders(templated, [self.setup.items.titles[i] for i in recommended])
        return final, templated, recommended


def turn_nlls(
    model, setup, split: Split, cache: TurnCache, device, precision: str = "auto", batch_size: int = 16
) -> list[tuple[float, int]]:
    """(summed negative log-likelihood, token count) of each ground-truth system turn's words and
    `[EOS]` (teacher forcing, with the recommended items' ITEs in the context as in training)."""
    import torch.nn.functional as F

    tok = setup.tok
    out = []
    model.eval()
    for s0 in range(0, len(split.samples), batch_size):
        built = [build_sequence(split, cache, s, setup.spec) for s in split.samples[s0 : s0 + batch_size]]
        for x in built:
            x.targets = [-100 if t == tok.rec else t for t in x.targets]
        batch = to_device(collate(built, [[] for _ in built], [[] for _ in built], tok.pad, tok.item), device)
        with torch.no_grad(), autocast(device, precision):
            _, logits = model.run(batch)
        tg = batch["targets"][:, 1:]
        lm = logits[:, :-1].float()
        nll = F.cross_entropy(lm.reshape(-1, lm.shape[-1]), tg.reshape(-1), ignore_index=-100, reduction="none").view(tg.shape)
        for b in range(tg.shape[0]):
            out.append((float(nll[b].sum()), int((tg[b] != -100).sum())))
    return out


def response_nll(model, setup, split: Split, cache: TurnCache, device, precision: str = "auto", batch_size: int = 16) -> tuple[float, int]:
    """Summed negative log-likelihood of all ground-truth system turns (`turn_nlls`) and the token count."""
    per_turn = turn_nlls(model, setup, split, cache, device, precision, batch_size)
    return sum(n for n, _ in per_turn), sum(c for _, c in per_turn)
