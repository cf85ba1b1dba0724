"""Everything a run needs besides the model weights, built from a config and a build folder:
tokenizer, word embeddings, image features, the product catalogue, slot keys and the state index.
Also the model registry (`semantic`, `clip`, `text`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from modeling.baselines import TABLE1 as BASELINES
from modeling.data import tables
from modeling.data.catalogue import Catalogue, ImageFeatures
from modeling.data.dataset import ContextSpec, EvalStream, TrainStream
from modeling.data.features import ensure_features
from modeling.data.states import StateIndex, discover_slot_keys
from modeling.data.text import load_tokenizer, load_word_embeddings, tokenize

MODEL_KINDS = ("semantic", "clip", "text", *BASELINES)
SLOT_TOKENS = 8


def model_class(kind: str):
    if kind == "semantic":
        from modeling.semantic.model import SeMANTIC

        return SeMANTIC
    if kind == "clip":
        from modeling.baselines.clip import ClipStyle

        return ClipStyle
    if kind == "text":
        from modeling.baselines.text_only import TextOnly

        return TextOnly
    if kind in BASELINES:
        import importlib

        return getattr(importlib.import_module(f"modeling.baselines.{kind}"), BASELINES[kind])
    raise ValueError(f"model {kind!r}: one of {MODEL_KINDS}")


@dataclass
class Runtime:
    cfg: dict
    data: str
    tokenizer: object
    features: ImageFeatures
    catalogue: Catalogue
    slot_keys: list[str]
    _gold: dict = field(default_factory=dict, repr=False)  # split -> (StateIndex, value token ids), for attach_states

    @classmethod
    def load(
        cls,
        cfg: dict,
        data: str,
        device: str = "cpu",
        fallback_out: str | None = None,
        slot_keys: list[str] | None = None,
        progress: bool = False,
    ) -> Runtime:
        if not data or not os.path.isdir(data):
            raise tables.DataError(f"data={data!r}: give a build output folder (data=DIR)")
        tok = load_tokenizer(cfg["text"]["tokenizer"])
        feat_root = ensure_features(data, cfg["image"], fallback_out or data, device, progress)
        features = ImageFeatures.load(feat_root)
        catalogue = Catalogue.load(data, tok, cfg["loader"]["product_tokens"], features)
        if slot_keys is None:
            slot_keys = cfg["loader"]["slot_keys"] or discover_slot_keys(data, "train", cfg["loader"]["max_slots"])
        return cls(cfg, data, tok, features, catalogue, list(slot_keys))

    def bank(self):
        from modeling.encoders.bank import Bank

        return Bank.from_data(self.features, self.catalogue)

    def key_tokens(self) -> np.ndarray:
        keys = self.slot_keys or ["none"]
        return tokenize(self.tokenizer, [k.replace("_", " ") for k in keys], SLOT_TOKENS)

    def value_tokens(self, values: list[str]) -> np.ndarray:
        return tokenize(self.tokenizer, values, SLOT_TOKENS)

    def build_model(self, kind: str):
        import torch

        cfg = self.cfg
        weights = load_word_embeddings(cfg["text"]["embeddings"]) if cfg["text"]["embeddings"] != "random" else None
        vocab = weights.shape[0] if weights is not None else len(self.tokenizer)
        cls_ = model_class(kind)
        return cls_(cfg, vocab, weights, self.features.dim, torch.from_numpy(self.key_tokens()), bank=self.bank())

    def states(self, split: str) -> StateIndex:
        return StateIndex.build(self.data, split, self.slot_keys, self.cfg["loader"]["state_ratio"])

    def feeds_states(self, kind: str) -> bool:
        """Whether a model of `kind` reads dialog states: SeMANTIC always (its teacher, in training),
        the Table 1 baselines with `baseline.gold_states` (section 5.3, in training and testing)."""
        return kind == "semantic" or (kind in BASELINES and bool(self.cfg["baseline"]["gold_states"]))

    def attach_states(self, model, split: str) -> StateIndex:
        """The split's gold states, with the model told the token ids of their value vocabulary
        (each split has its own; built once per split and runtime)."""
        import torch

        if split not in self._gold:
            states = self.states(split)
            self._gold[split] = (states, torch.from_numpy(self.value_tokens(states.values)))
        states, tokens = self._gold[split]
        model.set_state_values(tokens)
        return states

    def train_stream(self, seed: int, rank: int = 0, world: int = 1, states: StateIndex | None = None) -> TrainStream:
        lc = self.cfg["loader"]
        return TrainStream(
            self.data,
            "train",
            self.catalogue,
            self.features,
            self.tokenizer,
            ContextSpec.from_config(lc),
            states,
            read_rows=lc["read_rows"],
            rank=rank,
            world=world,
            batch_size=self.cfg["train"]["batch_size"],
            negatives=lc["train_negatives"],
            shuffle_buffer=lc["shuffle_buffer"],
            seed=seed,
            dp_ratio=lc.get("dp_ratio", 1.0),
        )

    def eval_stream(self, split: str, max_turns: int = 0, states: StateIndex | None = None) -> EvalStream:
        lc = self.cfg["loader"]
        return EvalStream(
            self.data,
            split,
            self.catalogue,
            self.features,
            self.tokenizer,
            ContextSpec.from_config(lc),
            states,
            read_rows=lc["read_rows"],
            batch_size=lc["eval_batch_size"],
            max_turns=max_turns,
        )
