"""Tokenizers for the backbone and the item encoders.

Without pretrained weights both share one WordPiece tokenizer counted on the build (templated
turns and item texts) and saved in the run folder (`tokenizer.json`), so evaluation reads the
same vocabulary. With `model.pretrained=DIR`, `DIR/backbone` (a GPT-2 folder) and
`DIR/item_encoder` (a DistilBERT folder) bring their own tokenizers, to which MESE's special
tokens are added. Nothing downloads.
"""

from __future__ import annotations

import os

PAD, UNK, SEP, REC, PH, ITEM, USER, SYSTEM, EOS = "[PAD]", "[UNK]", "[SEP]", "[REC]", "[PH]", "[ITEM]", "[USER]", "[SYSTEM]", "[EOS]"
SPECIALS = [PAD, UNK, SEP, REC, PH, ITEM, USER, SYSTEM, EOS]
TOKENIZER_FILE = "tokenizer.json"


class Tok:
    """encode/decode and the special ids, over a `tokenizers.Tokenizer` or a transformers tokenizer."""

    def __init__(self, backend, hf: bool = False):
        self.backend, self.hf = backend, hf
        self.pad, self.unk, self.sep, self.rec, self.ph, self.item, self.user, self.system, self.eos = (self.id(t) for t in SPECIALS)

    def id(self, token: str) -> int:
        i = self.backend.convert_tokens_to_ids(token) if self.hf else self.backend.token_to_id(token)
        if i is None or (self.hf and i == self.backend.unk_token_id and token != UNK):
            raise ValueError(f"tokenizer lacks {token}")
        return int(i)

    def __len__(self) -> int:
        return len(self.backend) if self.hf else self.backend.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        if self.hf:
            return list(self.backend(text, add_special_tokens=False)["input_ids"])
        return self.backend.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        if self.hf:
            return self.backend.decode(ids, skip_special_tokens=False).strip()
        return self.backend.decode(ids, skip_special_tokens=False)

    def save(self, folder: str) -> None:
        if self.hf:
            self.backend.save_pretrained(folder)
        else:
            self.backend.save(os.path.join(folder, TOKENIZER_FILE))


def train_tokenizer(texts: list[str], vocab_size: int) -> Tok:
    """A WordPiece tokenizer whose vocabulary is counted here, in a fixed order: the specials, every
    character seen (alone and as a `##` continuation), then the most frequent whole words (ties by
    the word) up to `vocab_size`. The `tokenizers` WordPiece trainer is not used: it numbers
    continuation pieces in hash-map order, so two trainings on the same text could give different
    vocabularies (huggingface/tokenizers#1794) and the same seed different runs."""
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    pre = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    words: Counter = Counter()
    for text in texts:
        words.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
    chars = sorted({c for w in words for c in w})
    vocab = {t: i for i, t in enumerate([*SPECIALS, *chars, *(f"##{c}" for c in chars)])}
    for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= vocab_size:
            break
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab, unk_token=UNK, max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(SPECIALS)
    return Tok(tok)


def load_tokenizer(folder: str) -> Tok:
    from tokenizers import Tokenizer

    return Tok(Tokenizer.from_file(os.path.join(folder, TOKENIZER_FILE)))


def load_hf_tokenizer(folder: str) -> Tok:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    tok.add_special_tokens(
        {"pad_token": PAD, "unk_token": UNK, "sep_token": SEP, "additional_special_tokens": [REC, PH, ITEM, USER, SYSTEM, EOS]}
    )
    return Tok(tok, hf=True)
