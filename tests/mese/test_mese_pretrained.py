"""`model.pretrained=DIR` loads a local GPT-2 and DistilBERT (with their tokenizers), adds MESE's
special tokens and trains; nothing downloads (the folders are written here from tiny configs)."""

from __future__ import annotations

import torch


def test_pretrained_folders_load_offline(tiny_setup, tmp_path):
    from transformers import DistilBertConfig, DistilBertModel, GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from modeling.mese.batch import TrainBatches
    from modeling.mese.setup import Setup

    base = tiny_setup.tok.backend  # a WordPiece tokenizer stands in for the real ones
    plain = PreTrainedTokenizerFast(tokenizer_object=base)
    GPT2LMHeadModel(GPT2Config(vocab_size=plain.vocab_size, n_embd=32, n_layer=1, n_head=2, n_positions=256)).save_pretrained(
        tmp_path / "w" / "backbone"
    )
    DistilBertModel(DistilBertConfig(vocab_size=plain.vocab_size, dim=32, n_layers=1, n_heads=2, hidden_dim=64)).save_pretrained(
        tmp_path / "w" / "item_encoder"
    )
    plain.save_pretrained(tmp_path / "w" / "backbone")
    plain.save_pretrained(tmp_path / "w" / "item_encoder")
    cfg = {**tiny_setup.cfg, "model": {**tiny_setup.cfg["model"], "pretrained": str(tmp_path / "w")}}
    setup = Setup.create(cfg, str(tmp_path / "run"))
    assert setup.tok.hf and setup.tok.decode([setup.tok.ph]) == "[PH]"
    model = setup.build_model()
    saved = GPT2LMHeadModel.from_pretrained(tmp_path / "w" / "backbone")
    assert torch.equal(model.backbone.transformer.h[0].mlp.c_fc.weight, saved.transformer.h[0].mlp.c_fc.weight)
    assert model.backbone.transformer.wte.weight.shape[0] == len(setup.tok)
    split = setup.split("train")
    batch = next(TrainBatches(split, setup.cache(split), setup.spec, len(setup.items), 4, 5).epoch(0, 0))
    loss, parts = model(batch)
    loss.backward()
    assert torch.isfinite(loss) and set(parts) >= {"L_res"}
