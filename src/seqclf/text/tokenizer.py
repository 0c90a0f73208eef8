"""Stage 2, tokens: a word-level Hugging Face `tokenizers` model with <pad>=0 and <unk>=1.

Text is normalized (NFKC, lowercase by default) and split into words and runs of punctuation.
The saved `tokenizer.json` carries truncation and padding to max_len, so the `tokenizers`
library alone turns text into exactly the ids the model reads.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from seqclf.config import TokenizerConfig
from seqclf.data.batching import PAD_ID, EncodedCorpus

PAD, UNK = "<pad>", "<unk>"
UNK_ID = 1
_UNLIMITED = 1 << 40


@dataclass(frozen=True)
class Token:
    """One token of a text as the trace shows it: the text it came from and its id."""

    text: str
    id: int

    @property
    def known(self) -> bool:
        return self.id != UNK_ID


class WordTokenizer:
    """Splits text into word ids; `max_len` is the resolved (integer) sequence length."""

    def __init__(self, hf: Tokenizer, max_len: int) -> None:
        self.max_len = max_len
        self._hf = hf
        self._hf.no_truncation()  # truncation happens on the flat arrays; padding per batch
        self._hf.no_padding()

    @classmethod
    def train(cls, texts: Sequence[str], config: TokenizerConfig) -> tuple[WordTokenizer, EncodedCorpus]:
        """Build the vocabulary on training texts; also returns those texts encoded (truncated)."""
        hf = Tokenizer(models.WordLevel(unk_token=UNK))
        steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if config.lowercase else [])
        hf.normalizer = normalizers.Sequence(steps)
        hf.pre_tokenizer = pre_tokenizers.Whitespace()  # words (\w+) and runs of punctuation
        size = _UNLIMITED if config.max_size is None else config.max_size + 2
        trainer = trainers.WordLevelTrainer(
            vocab_size=size, min_frequency=config.min_freq, special_tokens=[PAD, UNK], show_progress=False
        )
        hf.train_from_iterator(texts, trainer)
        raw = _encode(hf, texts)
        max_len = config.max_len if config.max_len != "auto" else auto_max_len(raw.lengths, config.max_len_percentile)
        return cls(hf, max_len), raw.truncated(max_len)

    @property
    def vocab_size(self) -> int:
        return self._hf.get_vocab_size()

    def encode(self, texts: Sequence[str]) -> EncodedCorpus:
        """Ids of each text, truncated to max_len, not padded."""
        return _encode(self._hf, texts).truncated(self.max_len)

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens per text before truncation, (N,) int64."""
        return _encode(self._hf, texts).lengths

    def tokens(self, text: str) -> list[Token]:
        """The tokens of one text (before truncation), each with the piece of text it came from."""
        encoding = self._hf.encode(text, add_special_tokens=False)
        return [Token(text[start:end], i) for i, (start, end) in zip(encoding.ids, encoding.offsets)] or [
            Token(text, UNK_ID)
        ]

    def id_to_token(self, token_id: int) -> str:
        return self._hf.id_to_token(token_id)

    def save(self, path: Path) -> None:
        """Write tokenizer.json with truncation and padding to max_len, ready for standalone use."""
        saved = Tokenizer.from_str(self._hf.to_str())
        saved.enable_truncation(self.max_len)
        saved.enable_padding(pad_id=PAD_ID, pad_token=PAD, length=self.max_len)
        saved.save(str(path))

    @classmethod
    def load(cls, path: Path, max_len: int) -> WordTokenizer:
        return cls(Tokenizer.from_file(str(path)), max_len)


def _encode(hf: Tokenizer, texts: Sequence[str]) -> EncodedCorpus:
    encodings = hf.encode_batch_fast(list(texts), add_special_tokens=False)
    # A text with no tokens at all (e.g. only symbols the normalizer drops) reads as one <unk>.
    return EncodedCorpus.from_sequences([e.ids or [UNK_ID] for e in encodings])


def auto_max_len(lengths: np.ndarray, percentile: float) -> int:
    """A length that covers `percentile` % of the training sequences whole."""
    return max(1, math.ceil(float(np.percentile(lengths, percentile))))
