"""Stage 2's fast path: the same ids as the Hugging Face definition in tokenizer.json, computed faster.

seqclf's tokenizer is NFKC, optionally lowercase, then words (\\w+) and runs of punctuation
([^\\w\\s]+), then a vocabulary lookup. On ASCII text NFKC changes nothing and \\w and \\s are
[0-9A-Za-z_] and [ \\t\\n\\v\\f\\r] (the Unicode classes the Rust regex uses, restricted to ASCII; Python's
own \\s would also take \\x1c-\\x1f), so a compiled pattern and a dictionary lookup give exactly the
library's ids. A text with any other character, or one that spells out a special token (`tokenizers`
matches "<pad>" and "<unk>" in the raw text as those tokens), goes through `tokenizers` itself, so
nothing can differ; tests prove the equality on random Unicode and on every sentence of the shared data.

Vocabulary building is one pass: each token gets a provisional id as it is first seen, counts come
from those ids, and the vocabulary is ordered as `WordLevelTrainer` orders it (specials, then count
descending, then the word), so the saved tokenizer.json is the library's own.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

import numpy as np
from tokenizers import Tokenizer

from seqclf.ids import PAD, UNK, UNK_ID, EncodedCorpus, ranges

SEPARATOR = "\u2063"  # between texts: never in an ASCII text, and a token of its own in the pattern below
SEPARATOR_WORD = " \u2063"  # how U+2063 as a word of a (non-ASCII) text is counted: a key no word can be (a space)
ASCII_WORDS = re.compile(r"[0-9A-Za-z_]+|[^0-9A-Za-z_\t\n\x0b\x0c\r \u2063]+|\u2063")
CHUNK = 50_000  # texts per chunk: bounds the per-token Python objects alive at once
PREFIX_CHARS_PER_WORD = 8  # when only the first words count: how much of a text to split at first


def on_fast_path(text: str) -> bool:
    """A text the fast path splits exactly as `tokenizers` does: ASCII, with no special token spelled out."""
    return text.isascii() and PAD not in text and UNK not in text


class WordSplitter:
    """Splits texts into words and looks them up, exactly as a seqclf tokenizer.json does."""

    def __init__(self, hf: Tokenizer, lowercase: bool) -> None:
        self.hf, self.lowercase = hf, lowercase

    def words(self, text: str) -> list[str]:
        """The normalized words of one text (as the vocabulary trainer counts them: specials spelled out in
        the text are split like any other text)."""
        if text.isascii():
            return ASCII_WORDS.findall(text.lower() if self.lowercase else text)
        normalized = self.hf.normalizer.normalize_str(text)
        return [word for word, _ in self.hf.pre_tokenizer.pre_tokenize_str(normalized)]

    def ascii_words(self, texts: Sequence[str]) -> list[str]:
        """The words of ASCII texts in one pattern pass, each text followed by SEPARATOR."""
        blob = SEPARATOR.join(texts) + SEPARATOR
        return ASCII_WORDS.findall(blob.lower() if self.lowercase else blob)

    def encode_one(self, text: str, vocabulary: dict[str, int], max_len: int) -> EncodedCorpus:
        """One text's ids, read cut to max_len: the single-text path, with no batch machinery."""
        if not on_fast_path(text):
            return self.encode([text], vocabulary).truncated(max_len)
        get = vocabulary.get
        ids = np.array([get(word, UNK_ID) for word in self.words(text)][:max_len] or [UNK_ID], dtype=np.int32)
        return EncodedCorpus(ids, np.array([0, len(ids)], dtype=np.int64))

    def encode(self, texts: Sequence[str], vocabulary: dict[str, int], cut: int | None = None) -> EncodedCorpus:
        """Ids of each text (a text with no words reads as one <unk>): all of them, or with `cut` only the
        first `cut` (what a model reads; long texts are then split only as far as needed)."""
        lookup = {**vocabulary, SEPARATOR: -1}
        parts = [self._encode_chunk(texts[start : start + CHUNK], lookup, cut)
                 for start in range(0, len(texts), CHUNK)]
        return parts[0] if len(parts) == 1 else EncodedCorpus.concatenate(parts)

    def _encode_chunk(self, texts: Sequence[str], lookup: dict[str, int], cut: int | None) -> EncodedCorpus:
        fast = np.fromiter(map(on_fast_path, texts), dtype=bool, count=len(texts))
        if fast.all():
            return self._encode_ascii(texts, lookup, cut)
        others = [text for text, plain in zip(texts, fast) if not plain]
        encoded = self.hf.encode_batch_fast(others, add_special_tokens=False)
        other = EncodedCorpus.from_sequences([e.ids[:cut] or [UNK_ID] for e in encoded])
        if not fast.any():
            return other
        plain = [text for text, plain in zip(texts, fast) if plain]
        return interleave(fast, self._encode_ascii(plain, lookup, cut), other)

    def _encode_ascii(self, texts: Sequence[str], lookup: dict[str, int], cut: int | None) -> EncodedCorpus:
        if cut is None:
            return self._lookup(self.ascii_words(texts), lookup)
        # Words are maximal runs, so a prefix splits exactly as the whole text does up to its last word,
        # which may be cut short: a prefix holding more than `cut` words holds the first `cut` whole.
        chars = PREFIX_CHARS_PER_WORD * (cut + 1)
        corpus = self._lookup(self.ascii_words([text[:chars] for text in texts]), lookup)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        again = (np.diff(corpus.offsets) <= cut) & (lengths > chars)  # too few words in a prefix of a longer text
        if not again.any():
            return corpus.truncated(cut)
        whole = self._lookup(self.ascii_words([texts[i] for i in np.flatnonzero(again)]), lookup).truncated(cut)
        return interleave(~again, corpus.truncated(cut).select(np.flatnonzero(~again)), whole)

    @staticmethod
    def _lookup(words: list[str], lookup: dict[str, int]) -> EncodedCorpus:
        ids = np.fromiter(map(lookup.get, words, itertools.repeat(UNK_ID)), dtype=np.int32, count=len(words))
        return split_at_separators(ids)

    def train(self, texts: Sequence[str], min_freq: int, size: int) -> tuple[dict[str, int], EncodedCorpus]:
        """The vocabulary WordLevelTrainer builds (specials <pad>, <unk>; then by count, descending, then
        by the word; words seen at least `min_freq` times; `size` entries at most), and the texts' ids."""
        index: dict[str, int] = {SEPARATOR: -1}  # word -> provisional id (its order of first sight)
        provisional = [self._first_sight(texts[start : start + CHUNK], index) for start in range(0, len(texts), CHUNK)]
        corpus = provisional[0] if len(provisional) == 1 else EncodedCorpus.concatenate(provisional)
        words = np.array([SEPARATOR if word == SEPARATOR_WORD else word for word in list(index)[1:]], dtype=object)
        counts = np.bincount(corpus.ids[corpus.ids >= 0], minlength=len(words))  # (W,)
        order = sorted(range(len(words)), key=lambda i: (-counts[i], words[i]))
        kept = [i for i in order if counts[i] >= min_freq][: max(size - 2, 0)]
        final = np.full(len(words) + 1, UNK_ID, dtype=np.int32)  # provisional id -> id; the last: "no word"
        final[kept] = np.arange(2, len(kept) + 2, dtype=np.int32)
        vocabulary = {PAD: 0, UNK: UNK_ID, **{words[i]: 2 + k for k, i in enumerate(kept)}}
        return vocabulary, EncodedCorpus(final[corpus.ids], corpus.offsets)

    def words_of(self, texts: Sequence[str]) -> Iterator[str]:
        """Every word of `texts`, as `train` counts them (for a pass of a corpus counted in pieces: a Counter
        updated from this iterator counts in C)."""
        ascii_words = self.ascii_words([text for text in texts if text.isascii()])
        others = (self.words(text) for text in texts if not text.isascii())
        return itertools.chain(itertools.filterfalse(SEPARATOR.__eq__, ascii_words),
                               itertools.chain.from_iterable(others))

    def _first_sight(self, texts: Sequence[str], index: dict[str, int]) -> EncodedCorpus:
        """Provisional ids (-1 for a text without words: it will read as <unk>)."""
        add = index.setdefault
        ascii_texts = [text for text in texts if text.isascii()]
        words = self.ascii_words(ascii_texts) if len(ascii_texts) == len(texts) else [
            word for text in texts for word in (*(SEPARATOR_WORD if w == SEPARATOR else w for w in self.words(text)),
                                                SEPARATOR)]
        ids = np.fromiter((add(word, len(index) - 1) for word in words), dtype=np.int32, count=len(words))
        return split_at_separators(ids, empty=-1)


def split_at_separators(ids: np.ndarray, empty: int = UNK_ID) -> EncodedCorpus:
    """A corpus from ids with -1 after each text; a text without ids gets one `empty` id."""
    ends = np.flatnonzero(ids == -1)  # (N,)
    lengths = np.diff(ends, prepend=-1) - 1  # (N,)
    tokens = ids[ids != -1]
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    blank = np.flatnonzero(lengths == 0)
    if len(blank):
        tokens = np.insert(tokens, offsets[blank], empty)
        lengths[blank] = 1
        np.cumsum(lengths, out=offsets[1:])
    return EncodedCorpus(tokens.astype(np.int32), offsets)


def interleave(first: np.ndarray, a: EncodedCorpus, b: EncodedCorpus) -> EncodedCorpus:
    """One corpus in input order from the texts where `first` is true (`a`, in order) and the others (`b`)."""
    lengths = np.empty(len(first), dtype=np.int64)
    lengths[first], lengths[~first] = a.lengths, b.lengths
    offsets = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.empty(int(offsets[-1]), dtype=np.int32)
    for mask, part in ((first, a), (~first, b)):
        part_lengths = part.lengths
        ids[ranges(offsets[:-1][mask], part_lengths)] = part.ids[ranges(part.offsets[:-1], part_lengths)]
    return EncodedCorpus(ids, offsets)
