"""Tokenisers for the JDDC models: character-level, trained on the build's training text, or a
local pretrained one.

Chinese words are not space-separated and the data sets are small, so the from-scratch tokenizer
gives every character its own id (`tokenizers` WordLevel over a one-character pre-tokeniser;
whitespace is dropped, rare characters below `min_freq` map to [UNK]). It is saved as
`tokenizer.json` in the run folder, so evaluation decodes with exactly the training vocabulary.
With `model.pretrained=PATH` the tokenizer of that folder (e.g. a Chinese BERT or GPT-2
checkpoint's BertTokenizer) is used instead; nothing downloads.

Both expose the same small interface: `encode(text) -> ids` (no special tokens), `decode(ids)`,
`vocab_size` and the special ids the models build sequences with (pad, unk, cls, sep, bos, eos,
img, usr, sys).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

TOKENIZER_FILE = "tokenizer.json"
SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[BOS]", "[EOS]", "[IMG]", "[USR]", "[SYS]")


class CharTokenizer:
    def __init__(self, tok):
        self.tok = tok
        ids = {s: tok.token_to_id(s) for s in SPECIALS}
        self.pad_id, self.unk_id, self.cls_id, self.sep_id = ids["[PAD]"], ids["[UNK]"], ids["[CLS]"], ids["[SEP]"]
        self.bos_id, self.eos_id, self.img_id = ids["[BOS]"], ids["[EOS]"], ids["[IMG]"]
        self.usr_id, self.sys_id = ids["[USR]"], ids["[SYS]"]
        self.special_ids = set(ids.values())

    @classmethod
    def train(cls, texts: Iterable[str], min_freq: int = 1, max_vocab: int = 0) -> CharTokenizer:
        from tokenizers import Regex, Tokenizer, models, pre_tokenizers

        counts = Counter(c for t in texts for c in t if not c.isspace())
        chars = [c for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_freq]
        if max_vocab:
            chars = chars[: max(0, max_vocab - len(SPECIALS))]
        vocab = {s: i for i, s in enumerate(SPECIALS)}
        for c in chars:
            vocab.setdefault(c, len(vocab))
        tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex("."), behavior="isolated")]
        )
        tok.add_special_tokens(list(SPECIALS))
        return cls(tok)

    @classmethod
    def load(cls, folder: str) -> CharTokenizer:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(os.path.join(folder, TOKENIZER_FILE)))

    def save(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{TOKENIZER_FILE}.tmp")
        self.tok.save(tmp)
        os.replace(tmp, os.path.join(folder, TOKENIZER_FILE))

    @property
    def vocab_size(self) -> int:
        return self.tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids if text else []

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.tok.id_to_token(i) or "" for i in ids if i not in self.special_ids)


class PretrainedTokenizer:
    """A local Hugging Face tokenizer folder behind the CharTokenizer interface."""

    def __init__(self, folder: str):
        from transformers import AutoTokenizer

        self.folder = folder
        self.tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        t = self.tok
        self.unk_id = t.unk_token_id if t.unk_token_id is not None else 0
        self.cls_id = _first(t.cls_token_id, t.bos_token_id, self.unk_id)
        self.sep_id = _first(t.sep_token_id, t.eos_token_id, self.unk_id)
        self.bos_id = _first(t.bos_token_id, t.cls_token_id, self.unk_id)
        self.eos_id = _first(t.eos_token_id, t.sep_token_id, self.unk_id)
        self.pad_id = _first(t.pad_token_id, self.eos_id)
        self.img_id = self.usr_id = self.sys_id = self.unk_id
        self.special_ids = {i for i in (self.pad_id, self.cls_id, self.sep_id, self.bos_id, self.eos_id) if i is not None}

    @property
    def vocab_size(self) -> int:
        return len(self.tok)

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False) if text else []

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.tok.decode([i for i in ids if i not in self.special_ids], skip_special_tokens=True).split())

    def save(self, folder: str) -> None:
        self.tok.save_pretrained(folder)


def _first(*values):
    return next((v for v in values if v is not None), None)


def build_tokenizer(pretrained: str | None, texts: Iterable[str], min_freq: int = 1, max_vocab: int = 0):
    """The tokenizer of `pretrained` (a local folder), else a character tokenizer over `texts`."""
    if pretrained:
        if not os.path.isdir(pretrained):
            raise ValueError(f"model.pretrained={pretrained!r}: not a local folder (nothing is downloaded)")
        return PretrainedTokenizer(pretrained)
    return CharTokenizer.train(texts, min_freq, max_vocab)


def load_run_tokenizer(folder: str, pretrained: str | None):
    """The tokenizer a run saved (or the pretrained folder's)."""
    if pretrained:
        return PretrainedTokenizer(pretrained)
    return CharTokenizer.load(folder)
