"""Tokenizers for the backbone and the item encoders.

Without pretrained weights both share one WordPiece tokenizer trained on the build (templated
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
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token=UNK))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(SPECIALS)
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False))
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
