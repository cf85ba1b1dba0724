"""SeMANTIC: one recommender (context encoder, product encoder, text and image DSI modules) run
with two state encoders, the teacher's (ground-truth states) and the student's (predicted).

Training step (section 4 and appendix A.3), for a batch mixing D_F samples (with a selected
ground-truth state) and D_P samples:

    student pass on every sample:  L_rk, plus L_JS and L_co-sim on D_P samples only
    teacher pass on D_F samples:   L_rk + L_JS + L_co-sim
    MSE(S, S~) on D_F samples
    loss = alpha * L_teacher + (1 - alpha) * (L_student + MSE)

Teacher and student share the recommender (encoders and DSI modules) by default and differ in
the state encoder; `semantic.separate_teacher=true` gives the teacher its own copy, so the
student learns from the teacher only through the MSE on state embeddings (see
modeling/README.md for the measured choice). `semantic.dsi=false` ranks without the state
interaction (the "w/o DSI" ablation).

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

# keys added after the first release: runs saved before them load with these values
DEFAULTS = {"separate_teacher": False, "dsi": True, "dsi_attention": "affine", "dsi_temperature": 0.1}


def _add_recommender(m: nn.Module, cfg: dict, vocab_size: int, word_weights: torch.Tensor | None, feature_dim: int) -> None:
    """The recommender's modules (word embeddings, token/context/product encoders, image
    projection, text and image DSI) as attributes of m."""
    n, t, s = cfg["net"], cfg["text"], cfg["semantic"]
    d, h, f, p, layers = n["d_model"], n["heads"], n["ffn"], n["dropout"], n["layers"]
    embed_dim = word_weights.shape[1] if word_weights is not None else t["embed_dim"]
    m.words = WordEmbedding(word_weights, vocab_size, embed_dim, d, t["freeze_embeddings"])
    m.tokens = TokenEncoder(m.words, d, h, f, p, layers)
    m.images = ImageProjection(feature_dim, d)
    m.context = ContextEncoder(m.tokens, m.images, d, h, f, p, layers)
    m.products = ProductEncoder(m.tokens, m.images)
    s = {**DEFAULTS, **s}
    attention, temperature = s["dsi_attention"], s["dsi_temperature"]
    m.dsi_text = DSI(d, n["dsi_hops"], attention, temperature)
    m.dsi_image = DSI(d, n["dsi_hops"], attention, temperature)


class TeacherRecommender(nn.Module):
    """The teacher's own copy of the recommender (`semantic.separate_teacher=true`)."""

    def __init__(self, cfg: dict, vocab_size: int, word_weights: torch.Tensor | None, feature_dim: int):
        super().__init__()
        _add_recommender(self, cfg, vocab_size, word_weights, feature_dim)


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
        n, s = cfg["net"], cfg["semantic"]
        d, h, f, p, layers = n["d_model"], n["heads"], n["ffn"], n["dropout"], n["layers"]
        _add_recommender(self, cfg, vocab_size, word_weights, feature_dim)  # the student's (and, shared, the teacher's)
        self.slots = SlotStrings(key_tokens, torch.zeros(1, 2, dtype=torch.long))
        self.teacher = TeacherStateEncoder(d, h, f, p, layers, s["use_state_values"])
        self.student = StudentStateEncoder(d, h, f, p, layers)
        self.s = {**DEFAULTS, **s}
        self.teacher_net = TeacherRecommender(cfg, vocab_size, word_weights, feature_dim) if self.s["separate_teacher"] else None
        self.margin = cfg["train"]["margin"]
        self.bank = bank

    # -- pieces -----------------------------------------------------------------------------
    def side(self, teacher: bool) -> nn.Module:
        """The modules that rank for the teacher (its own copy when separate) or the student."""
        return self.teacher_net if (teacher and self.teacher_net is not None) else self

    def key_embeddings(self, teacher: bool = False) -> torch.Tensor:
        return self.side(teacher).tokens(self.slots.key_tokens, "mean")

    def branch(self, net: nn.Module, ctx: ContextRep, S: torch.Tensor, pT: torch.Tensor, pI: torch.Tensor):
        """Relevance f [B, C], JS score g [B, C] and the enhanced product vectors for state S.
        Without DSI (`semantic.dsi=false`, the "w/o DSI" ablation) the state is not used."""
        if not self.s["dsi"]:
            f = L.relevance(ctx.cT, ctx.cI, pT, pI)
            return f, torch.zeros_like(f), pT, pI
        ST, SI = net.dsi_text.states(S), net.dsi_image.states(S)
        xCT, aCT = net.dsi_text(ctx.cT, ST)
        xCI, aCI = net.dsi_image(ctx.cI, SI)
        xPT, aPT = net.dsi_text(pT, ST)
        xPI, aPI = net.dsi_image(pI, SI)
        f = L.relevance(xCT, xCI, xPT, xPI)
        g = L.js_divergence(aCT.unsqueeze(1).expand_as(aPT), aPT) + L.js_divergence(aCI.unsqueeze(1).expand_as(aPI), aPI)
        return f, g, xPT, xPI

    def _products(self, net: nn.Module, rows: torch.Tensor):
        used, inverse = torch.unique(rows, return_inverse=True)
        pT, pI = net.products(used, self.bank)
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
        pT, pI = self._products(self, rows)
        S_stu = self.student(self.key_embeddings(), ctx)
        in_df = batch["has_state"]
        student_aux = torch.ones_like(in_df) if self.s["dp_includes_df"] else ~in_df
        stu = self._pass_losses(*self.branch(self, ctx, S_stu, pT, pI), student_aux)
        L_stu = (stu["rank"] + stu["js"] + stu["cosim"]).sum() / b
        L_tea = L_mse = S_stu.new_zeros(())
        parts = {f"student_{k}": float(v.detach().sum()) / b for k, v in stu.items()}
        idx = in_df.nonzero(as_tuple=True)[0]
        if len(idx):
            net = self.side(teacher=True)
            sub_batch = {k: batch[k][idx] for k in ("tokens", "turn_mask", "image_rows")}
            if net is self:
                sub = ContextRep(ctx.CT[idx], ctx.CI[idx], ctx.mask[idx])
                tpT, tpI = pT[idx], pI[idx]
            else:
                sub = net.context(sub_batch, self.bank)
                tpT, tpI = self._products(net, rows[idx])
            S_tea = self.teacher(self.key_embeddings(teacher=True), net.tokens, self.slots.value_tokens, batch["state_values"][idx])
            tea = self._pass_losses(*self.branch(net, sub, S_tea, tpT, tpI), torch.ones_like(idx, dtype=torch.bool))
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
        f, _, _, _ = self.branch(self, ctx, S, cache["pT"][rows].to(ctx.CT.dtype), cache["pI"][rows].to(ctx.CT.dtype))
        return f
