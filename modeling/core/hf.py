"""The Hugging Face models the recipes build (BERT, GPT-2, DistilBERT), from one size vocabulary.

A recipe reads its own config keys once into `Sizes` and asks for a model here; a pretrained
folder is loaded with `local_files_only` (nothing downloads) and, when the recipe adds tokens,
its embeddings resized. From scratch, the same architecture is built with the given sizes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    vocab: int
    hidden: int
    layers: int
    heads: int
    max_positions: int
    ffn: int | None = None  # None: the architecture's default (4 x hidden)
    dropout: float = 0.1
    attention_dropout: float | None = None  # None: `dropout`
    pad_id: int | None = None
    bos_id: int | None = None
    eos_id: int | None = None
    type_vocab: int = 2
    sdpa: bool = False  # ask for torch's scaled-dot-product attention explicitly

    @property
    def attn_dropout(self) -> float:
        return self.dropout if self.attention_dropout is None else self.attention_dropout


def _pretrained(cls, folder: str, resize_to: int | None, **kw):
    model = cls.from_pretrained(folder, local_files_only=True, **kw)
    if resize_to:
        model.resize_token_embeddings(resize_to)
    return model


def _sdpa(conf, sizes: Sizes):
    if sizes.sdpa:
        conf._attn_implementation = "sdpa"
    return conf


def bert(sizes: Sizes, pretrained: str | None = None, resize_to: int | None = None):
    """A BertModel without the pooling layer."""
    from transformers import BertConfig, BertModel

    if pretrained:
        return _pretrained(BertModel, pretrained, resize_to, add_pooling_layer=False)
    conf = BertConfig(
        vocab_size=sizes.vocab,
        hidden_size=sizes.hidden,
        num_hidden_layers=sizes.layers,
        num_attention_heads=sizes.heads,
        intermediate_size=sizes.ffn or 4 * sizes.hidden,
        hidden_dropout_prob=sizes.dropout,
        attention_probs_dropout_prob=sizes.attn_dropout,
        max_position_embeddings=sizes.max_positions,
        pad_token_id=sizes.pad_id,
        type_vocab_size=sizes.type_vocab,
    )
    return BertModel(_sdpa(conf, sizes), add_pooling_layer=False)


def gpt2_lm(sizes: Sizes, pretrained: str | None = None, resize_to: int | None = None):
    """A GPT2LMHeadModel with tied input and output embeddings."""
    from transformers import GPT2Config, GPT2LMHeadModel

    if pretrained:
        return _pretrained(GPT2LMHeadModel, pretrained, resize_to)
    conf = GPT2Config(
        vocab_size=sizes.vocab,
        n_embd=sizes.hidden,
        n_layer=sizes.layers,
        n_head=sizes.heads,
        n_inner=sizes.ffn,
        n_positions=sizes.max_positions,
        resid_pdrop=sizes.dropout,
        embd_pdrop=sizes.dropout,
        attn_pdrop=sizes.attn_dropout,
        bos_token_id=sizes.bos_id,
        eos_token_id=sizes.eos_id,
        tie_word_embeddings=True,
    )
    return GPT2LMHeadModel(_sdpa(conf, sizes))


def distilbert(sizes: Sizes, pretrained: str | None = None, resize_to: int | None = None):
    from transformers import DistilBertConfig, DistilBertModel

    if pretrained:
        return _pretrained(DistilBertModel, pretrained, resize_to)
    conf = DistilBertConfig(
        vocab_size=sizes.vocab,
        dim=sizes.hidden,
        n_layers=sizes.layers,
        n_heads=sizes.heads,
        hidden_dim=sizes.ffn or 4 * sizes.hidden,
        max_position_embeddings=sizes.max_positions,
        dropout=sizes.dropout,
        attention_dropout=sizes.attn_dropout,
        pad_token_id=sizes.pad_id or 0,
    )
    return DistilBertModel(_sdpa(conf, sizes))
