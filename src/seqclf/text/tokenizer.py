"""Stage 2, tokens: a word-level Hugging Face `tokenizers` model with <pad>=0 and <unk>=1.

Text is normalized (NFKC, lowercase by default) and split into words and runs of punctuation.
The saved `tokenizer.json` carries truncation and padding to max_len, so the `tokenizers`
library alone turns text into exactly the ids the model reads.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from seqclf.errors import ConfigError
from seqclf.fields import check_at_least, check_choice, choices_text, setting
from seqclf.ids import PAD, PAD_ID, UNK, UNK_ID, EncodedCorpus
from seqclf.outputs import WINDOW_POOLINGS
from seqclf.text.words import WordSplitter

_UNLIMITED = 1 << 40
LONG_TEXT = ("truncate", "chunk")


@dataclass
class TokenizerConfig:
    """Stage 2: words to ids, then truncation/padding to max_len."""

    lowercase: bool = setting("lowercase text before splitting", default=True)
    min_freq: int = setting("keep words seen at least this often in the training data", default=1)
    max_size: int | None = setting("keep at most this many words (specials not counted); none = all", default=None)
    max_len: int | str = setting("tokens per sequence: an integer, or 'auto' (a high percentile of lengths)",
                                 default="auto")
    max_len_percentile: float = setting("percentile of training lengths used by max_len=auto", default=99.0)
    long_text: str = setting("texts longer than max_len: " + choices_text(LONG_TEXT) + " (truncate: the first "
                             "max_len tokens; chunk: windows of max_len tokens, every one classified, their logits "
                             "pooled; training reads them as window_training says)", default="truncate")
    window_stride: int | None = setting("chunk: tokens from one window's start to the next's; none = max_len / 2",
                                        default=None)
    window_pooling: str = setting("chunk: how a text's window logits make its logits: " + choices_text(WINDOW_POOLINGS),
                                  default="mean")

    def check_window_stride(self, max_len: int, resolved: str = "") -> None:
        if self.window_stride is not None and self.window_stride > max_len:
            raise ConfigError(f"must be at most max_len ({max_len}{resolved}), or windows would skip tokens, got "
                              f"{self.window_stride}", field="window_stride")

    def validate(self) -> None:
        check_at_least("min_freq", self.min_freq, 1)
        if self.max_size is not None:
            check_at_least("max_size", self.max_size, 1)
        if self.max_len != "auto":
            check_at_least("max_len", self.max_len, 1)
        check_choice("long_text", self.long_text, LONG_TEXT)
        check_choice("window_pooling", self.window_pooling, WINDOW_POOLINGS)
        if self.window_stride is not None:
            check_at_least("window_stride", self.window_stride, 1)
        if self.max_len != "auto":  # max_len auto: checked once it is resolved from the data
            self.check_window_stride(self.max_len)
        if not 0 < self.max_len_percentile <= 100:
            raise ConfigError(f"must be in (0, 100], got {self.max_len_percentile}", field="max_len_percentile")


@dataclass(frozen=True)
class Token:
    """One token of a text as the trace shows it: the text it came from and its id."""

    text: str
    id: int

    @property
    def known(self) -> bool:
        return self.id != UNK_ID


class WordTokenizer:
    """Splits text into word ids; `max_len` is the resolved (integer) sequence length.

    The Hugging Face `tokenizers` definition is the portable one (tokenizer.json); seqclf's own
    definitions are encoded by `WordSplitter`, which gives the same ids faster."""

    def __init__(self, hf: Tokenizer, max_len: int) -> None:
        self.max_len = max_len
        self._hf = hf
        self._hf.no_truncation()  # truncation happens on the flat arrays; padding per batch
        self._hf.no_padding()
        lowercase = seqclf_definition(hf)
        self._splitter = None if lowercase is None else WordSplitter(hf, lowercase)
        self._vocabulary = hf.get_vocab()

    @classmethod
    def train(cls, texts: Sequence[str], config: TokenizerConfig) -> tuple[WordTokenizer, EncodedCorpus]:
        """Build the vocabulary on training texts; also returns those texts encoded (read cut to max_len)."""
        splitter = word_splitter(config)
        vocabulary, raw = splitter.train(texts, config.min_freq, vocabulary_size(config))
        hf = with_vocabulary(splitter.hf, vocabulary)
        if any(PAD in text or UNK in text for text in texts):
            raw = splitter.encode(texts, hf.get_vocab())  # encoding matches spelled-out specials; counting did not
        tokenizer = cls(hf, resolve_max_len(config, raw.length_histogram()))
        return tokenizer, raw.truncated(tokenizer.max_len)

    @property
    def vocab_size(self) -> int:
        return self._hf.get_vocab_size()


    def encode(self, texts: Sequence[str], *, every_id: bool = True) -> EncodedCorpus:
        """Ids of each text, read cut to max_len: the one way text becomes ids. `every_id`: keep all of a
        text's ids (its length before truncation is known; windows of long texts need them); False: the same
        ids a model reads, found faster, long texts split only as far as needed (lengths known up to
        max_len + 1, enough to tell that a text was truncated)."""
        if self._splitter is None:
            return _encode(self._hf, texts).truncated(self.max_len)
        if every_id:
            return self._splitter.encode(texts, self._vocabulary).truncated(self.max_len)
        # cut one id later than the model reads: the texts longer than max_len stay known
        if len(texts) == 1:
            return self._splitter.encode_one(texts[0], self._vocabulary, self.max_len + 1).truncated(self.max_len)
        return self._splitter.encode(texts, self._vocabulary, cut=self.max_len + 1).truncated(self.max_len)

    def tokens(self, text: str) -> list[Token]:
        """The tokens of one text (before truncation), each with the piece of text it came from."""
        encoding = self._hf.encode(text, add_special_tokens=False)
        return [Token(text[start:end], i) for i, (start, end) in zip(encoding.ids, encoding.offsets)] or [
            Token(text, UNK_ID)
        ]

    def vocabulary(self) -> dict[str, int]:
        return dict(self._vocabulary)

    def id_to_token(self, token_id: int) -> str:
        return self._hf.id_to_token(token_id)

    def save(self, path: Path) -> None:
        """Write tokenizer.json with truncation and padding to max_len, ready for standalone use."""
        saved = Tokenizer.from_str(self._hf.to_str())
        saved.enable_truncation(self.max_len)
        saved.enable_padding(pad_id=PAD_ID, pad_token=PAD, length=self.max_len)
        # the bytes `Tokenizer.save` writes, but written by Python: a full disk is then an OSError
        path.write_text(saved.to_str(pretty=True), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, max_len: int) -> WordTokenizer:
        return cls(Tokenizer.from_file(str(path)), max_len)

    def to_json(self) -> str:
        """The vocabulary and text processing, without truncation or padding."""
        return self._hf.to_str()

    @classmethod
    def from_json(cls, text: str, max_len: int) -> WordTokenizer:
        return cls(Tokenizer.from_str(text), max_len)

    def fingerprint(self) -> str:
        """Changes whenever the ids a text gets could change."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def seqclf_definition(hf: Tokenizer) -> bool | None:
    """Whether a tokenizer is one seqclf defines (NFKC, optional lowercase, Whitespace, WordLevel with
    <unk>): then whether it lowercases; None for any other definition (encoded by `tokenizers` alone)."""
    definition = json.loads(hf.to_str())
    steps = [step.get("type") for step in (definition.get("normalizer") or {}).get("normalizers", [])]
    model = definition.get("model") or {}
    ours = (steps in (["NFKC"], ["NFKC", "Lowercase"]) and (definition.get("pre_tokenizer") or {}).get("type") ==
            "Whitespace" and model.get("type") == "WordLevel" and model.get("unk_token") == UNK)
    return (steps == ["NFKC", "Lowercase"]) if ours else None


def _encode(hf: Tokenizer, texts: Sequence[str], chunk: int = 50_000) -> EncodedCorpus:
    """Bulk encoding in the Rust tokenizer, a chunk at a time so that its per-text objects stay few."""
    parts = []
    for start in range(0, len(texts), chunk):
        encodings = hf.encode_batch_fast(list(texts[start : start + chunk]), add_special_tokens=False)
        # A text with no tokens at all (only white space) reads as one <unk>.
        parts.append(EncodedCorpus.from_sequences([e.ids or [UNK_ID] for e in encodings]))
    return parts[0] if len(parts) == 1 else EncodedCorpus.concatenate(parts)


def word_splitter(config: TokenizerConfig) -> WordSplitter:
    """How `config` splits texts into words, before there is a vocabulary: NFKC, lowercase if asked, then
    words (\\w+) and runs of punctuation."""
    hf = Tokenizer(models.WordLevel(unk_token=UNK))
    steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if config.lowercase else [])
    hf.normalizer = normalizers.Sequence(steps)
    hf.pre_tokenizer = pre_tokenizers.Whitespace()
    return WordSplitter(hf, config.lowercase)


def vocabulary_size(config: TokenizerConfig) -> int:
    """Entries of the vocabulary at most, the two specials included."""
    return _UNLIMITED if config.max_size is None else config.max_size + 2


def with_vocabulary(hf: Tokenizer, vocabulary: dict[str, int]) -> Tokenizer:
    """The splitting definition `hf` with its vocabulary: seqclf's tokenizer, ready to save."""
    hf.model = models.WordLevel(vocabulary, unk_token=UNK)
    hf.add_special_tokens([PAD, UNK])  # as WordLevelTrainer registers its special tokens
    return hf


def resolve_max_len(config: TokenizerConfig, length_counts: np.ndarray) -> int:
    """max_len as an integer: as configured, or for 'auto' from the training lengths' histogram
    (`length_counts[L]`: texts of L ids). The one place it is worked out; the tokenizer then holds it, and
    config.json records it."""
    if config.max_len != "auto":
        return config.max_len
    max_len = auto_max_len_of_counts(length_counts, config.max_len_percentile)
    config.check_window_stride(max_len, f": max_len auto, the {config.max_len_percentile:g}th percentile of the "
                                        "training lengths")
    return max_len


def auto_max_len(lengths: np.ndarray, percentile: float) -> int:
    """A length that covers `percentile` % of the training sequences whole."""
    return auto_max_len_of_counts(np.bincount(lengths), percentile)


def auto_max_len_of_counts(counts: np.ndarray, percentile: float) -> int:
    """`auto_max_len` of the lengths whose histogram is `counts` (counts[L]: sequences of length L), as
    np.percentile's linear method finds it among the sorted lengths: a corpus's lengths need not be held."""
    ends = np.cumsum(counts)  # (L,) sequences of length <= L
    position = (int(ends[-1]) - 1) * (percentile / 100)
    below = math.floor(position)
    low, high = (int(np.searchsorted(ends, k, side="right")) for k in (below, math.ceil(position)))
    share = position - below
    value = low + (high - low) * share if share < 0.5 else high - (high - low) * (1 - share)
    return max(1, math.ceil(value))
