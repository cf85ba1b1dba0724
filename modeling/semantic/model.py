"""SeMANTIC: one recommender (context encoder, product encoder, text and image DSI modules) run
with two state encoders, the teacher's (ground-truth states) and the student's (predicted).

Training step (section 4 and appendix A.3), for a batch mixing D_F samples (with a selected
ground-truth state) and D_P samples:

    student pass on every sample:  L_rk, plus L_JS and L_co-sim on D_P samples only
    teacher pass on D_F samples:   L_rk + L_JS + L_co-sim
    MSE(S, S~) on D_F samples
    loss = alpha * L_teacher + (1 - alpha) * (L_student + MSE)

Each term is a per-sample sum divided by the batch size. Disabling a loss (`semantic.js_loss`,
`cosim_loss`, `mse_loss`, `rank_loss`) drops it from both passes (the paper's ablations).
The student ranks at evaluation time: test dialogs carry no state.
"""

from __future__ import annotations

import torch
from torch import nn

from modeling.encoders.bank import Bank
from modeling.encoders.context import ContextEncoder, ContextRep, ProductEncoder
from modeling.encoders.layers import ImageProjection, TokenEncoder, WordEmbedding
from modeling.semantic import losses as L
from modeling.semantic.dsi import DSI
from modeling.semantic.state import SlotStrings, StudentStateEncoder, TeacherStateEncoder


class SeMANTIC(nn.Module):
    kind = "semantic"

    def __init__(
        self,
        cfg: dict,
        vocab_size: int,
        word_weights: torch.Tensor | None,
        feature_dim: int,
        key_tokens: torch.Tensor,
        bank: Bank | None = None,
    ):
        super().__init__()
        n, t, s = cfg["net"], cfg["text"], cfg["semantic"]
        d, h, f, p, layers = n["d_model"], n["heads"], n["ffn"], n["dropout"], n["layers"]
        embed_dim = word_weights.shape[1] if word_weights is not None else t["embed_dim"]
        self.words = WordEmbedding(word_weights, vocab_size, embed_dim, d, t["freeze_embeddings"])
        self.tokens = TokenEncoder(self.words, d, h, f, p, layers)
        self.images = ImageProjection(feature_dim, d)
        self.context = ContextEncoder(self.tokens, self.images, d, h, f, p, layers)
        self.products = ProductEncoder(self.tokens, self.images)
        self.slots = SlotStrings(key_tokens, torch.zeros(1, 2, dtype=torch.long))
        self.teacher = TeacherStateEncoder(d, h, f, p, layers, s["use_state_values"])
        self.student = StudentStateEncoder(d, h, f, p, layers)
        self.dsi_text = DSI(d, n["dsi_hops"])
        self.dsi_image = DSI(d, n["dsi_hops"])
        self.s = dict(s)
        self.margin = cfg["train"]["margin"]
        self.bank = bank

    # -- pieces -----------------------------------------------------------------------------
    def key_embeddings(self) -> torch.Tensor:
        return self.tokens(self.slots.key_tokens, "mean")

    def branch(self, ctx: ContextRep, S: torch.Tensor, pT: torch.Tensor, pI: torch.Tensor):
        """Relevance f [B, C], JS score g [B, C] and the enhanced product vectors for state S."""
        ST, SI = self.dsi_text.states(S), self.dsi_image.states(S)
        xCT, aCT = self.dsi_text(ctx.cT, ST)
        xCI, aCI = self.dsi_image(ctx.cI, SI)
        xPT, aPT = self.dsi_text(pT, ST)
        xPI, aPI = self.dsi_image(pI, SI)
        f = L.relevance(xCT, xCI, xPT, xPI)
        g = L.js_divergence(aCT.unsqueeze(1).expand_as(aPT), aPT) + L.js_divergence(aCI.unsqueeze(1).expand_as(aPI), aPI)
        return f, g, xPT, xPI

    def _products(self, rows: torch.Tensor):
        used, inverse = torch.unique(rows, return_inverse=True)
        pT, pI = self.products(used, self.bank)
        return pT[inverse], pI[inverse]

    def _pass_losses(self, f, g, xPT, xPI, aux_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample loss terms of one pass; JS and co-sim only where aux_mask is True."""
        zero = f.new_zeros(f.shape[0])
        out = {"rank": L.rank_loss(f, self.margin) if self.s["rank_loss"] else zero}
        aux = aux_mask.to(f.dtype)
        out["js"] = L.js_loss(g) * aux if self.s["js_loss"] else zero
        out["cosim"] = L.cosim_loss(xPT, xPI, self.s["cosim_centered"]) * aux if self.s["cosim_loss"] else zero
        return out

    def forward(self, batch: dict):
        return self.loss(batch)

    # -- training ---------------------------------------------------------------------------
    def loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        b = batch["pos_row"].shape[0]
        ctx = self.context(batch, self.bank)
        rows = torch.cat([batch["pos_row"].unsqueeze(1), batch["neg_rows"]], 1)
        pT, pI = self._products(rows)
        SK = self.key_embeddings()
        S_stu = self.student(SK, ctx)
        in_df = batch["has_state"]
        student_aux = torch.ones_like(in_df) if self.s["dp_includes_df"] else ~in_df
        stu = self._pass_losses(*self.branch(ctx, S_stu, pT, pI), student_aux)
        L_stu = (stu["rank"] + stu["js"] + stu["cosim"]).sum() / b
        L_tea = L_mse = S_stu.new_zeros(())
        parts = {f"student_{k}": float(v.detach().sum()) / b for k, v in stu.items()}
        idx = in_df.nonzero(as_tuple=True)[0]
        if len(idx):
            S_tea = self.teacher(SK, self.tokens, self.slots.value_tokens, batch["state_values"][idx])
            sub = ContextRep(ctx.CT[idx], ctx.CI[idx], ctx.mask[idx])
            tea = self._pass_losses(*self.branch(sub, S_tea, pT[idx], pI[idx]), torch.ones_like(idx, dtype=torch.bool))
            L_tea = (tea["rank"] + tea["js"] + tea["cosim"]).sum() / b
            parts.update({f"teacher_{k}": float(v.detach().sum()) / b for k, v in tea.items()})
            if self.s["mse_loss"]:
                target = S_tea.detach() if self.s["mse_detach_teacher"] else S_tea
                L_mse = L.mse_loss(target.float(), S_stu[idx].float()).sum() / b
        a = self.s["alpha"]
        total = a * L_tea + (1 - a) * (L_stu + L_mse)
        parts.update(
            {"teacher": float(L_tea.detach()), "student": float(L_stu.detach()), "mse": float(L_mse.detach()), "df_fraction": len(idx) / b}
        )
        return total, parts

    # -- evaluation -------------------------------------------------------------------------
    @torch.no_grad()
    def encode_products(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        pT, pI = self.products(rows, self.bank)
        return {"pT": pT.float(), "pI": pI.float()}

    @torch.no_grad()
    def score(self, batch: dict, cache: dict[str, torch.Tensor]) -> torch.Tensor:
        ctx = self.context(batch, self.bank)
        S = self.student(self.key_embeddings(), ctx)
        rows = batch["cand_rows"].clamp(min=0)
        f, _, _, _ = self.branch(ctx, S, cache["pT"][rows].to(ctx.CT.dtype), cache["pI"][rows].to(ctx.CT.dtype))
        return f
