"""Stage 2 for a training file larger than memory: two passes over the file as it streams by, the texts
never held. The first counts the words (`WordCounts`: exact, in bounded memory) and the labels; the
vocabulary follows, as the in-memory build makes it. The second encodes the texts a chunk at a time and
appends their ids, offsets and labels to the .npy files of a corpus-cache entry as they are made; the
entry is then memory-mapped, as a cached corpus always is. A test proves the vocabulary, ids, labels and
max_len equal to the in-memory build's.
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqclf.data.formats import FORMATS, BadRow, Row
from seqclf.data.readers import format_of, no_usable_rows, opened, usable_rows
from seqclf.data.settings import DataConfig
from seqclf.data.spaced_labels import note_stripped_labels
from seqclf.data.streams import ReadProgress, not_blank, text_chunks
from seqclf.ids import PAD, UNK, summed_histograms
from seqclf.text.tokenizer import (TokenizerConfig, WordTokenizer, resolve_max_len, vocabulary_size, with_vocabulary,
                                   word_splitter)
from seqclf.text.word_counts import WordCounts
from seqclf.text.words import WordSplitter

# Training files larger than this are encoded in two streamed passes. The one-pass build holds the texts and every
# distinct word: measured, 2.2 GB of peak RSS for a 193 MB file (benchmarks/results/scale.md).
STREAM_ABOVE_BYTES = 32 << 20
CHUNK_TEXTS = 50_000  # texts counted or encoded at a time


@dataclass
class Labels:
    """What the first pass learns of the labels: their names in first-seen order, how often each was read,
    and where the first label set was (a multi-label file)."""

    index: dict[str, int] = field(default_factory=dict)
    reads: Counter = field(default_factory=Counter)
    first_set: tuple[int, int] | None = None  # (line, labels in it)

    def add(self, row: Row) -> None:
        names = row.label if isinstance(row.label, tuple) else (row.label,)
        if isinstance(row.label, tuple) and self.first_set is None:
            self.first_set = (row.line, len(row.label))
        for name in names:
            self.index.setdefault(name, len(self.index))
        self.reads.update(names)


class GrowingArray:
    """A 1-D .npy file written a piece at a time; its header, rewritten in place, gives the final length."""

    def __init__(self, path: Path, dtype: type) -> None:
        self.handle, self.dtype, self.length = open(path, "wb"), np.dtype(dtype), 0
        self._write_header()
        self.data_start = self.handle.tell()

    def _write_header(self) -> None:
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": (self.length,)}
        np.lib.format.write_array_header_1_0(self.handle, header)

    def append(self, values: np.ndarray) -> None:
        self.handle.write(np.ascontiguousarray(values, dtype=self.dtype).tobytes())
        self.length += len(values)

    def close(self) -> None:
        self.handle.seek(0)
        self._write_header()  # NumPy leaves room in the header for the length to grow
        if self.handle.tell() != self.data_start:
            raise AssertionError("the .npy header changed size")
        self.handle.close()


def rows_of(path: Path, config: DataConfig, skipped: list[BadRow], spaced: list[tuple[str, str]],
            progress: ReadProgress | None = None) -> Iterator[list[Row]]:
    """The file's usable rows, CHUNK_TEXTS at a time, as the file is read."""
    with opened(path) as binary:
        chunks = not_blank(text_chunks(binary, config.encoding, str(path), progress), str(path))
        rows = FORMATS[format_of(path, config.format)](chunks, config, str(path), True)
        checked = usable_rows(rows, str(path), config, True, skipped, spaced, progress)
        while chunk := list(itertools.islice(checked, CHUNK_TEXTS)):
            yield chunk


def count_pass(path: Path, data_config: DataConfig, config: TokenizerConfig, counts: WordCounts,
               progress: ReadProgress | None = None) -> tuple[Labels, list[BadRow]]:
    """Pass 1: every word counted into `counts`; the labels; the rows skipped."""
    splitter, labels = word_splitter(config), Labels()
    skipped: list[BadRow] = []
    spaced: list[tuple[str, str]] = []
    for rows in rows_of(path, data_config, skipped, spaced, progress):
        counts.add(splitter.words_of([row.text for row in rows]))
        for row in rows:
            labels.add(row)
    note_stripped_labels(str(path), spaced, labels.reads)
    if not labels.index:
        raise no_usable_rows(str(path), skipped)
    return labels, skipped


def vocabulary_of(counts: WordCounts, config: TokenizerConfig) -> dict[str, int]:
    """The vocabulary `WordSplitter.train` makes of the same counts: specials, then by count and word."""
    words = counts.vocabulary_order(config.min_freq, max(vocabulary_size(config) - 2, 0))
    return {PAD: 0, UNK: 1, **{word: 2 + i for i, word in enumerate(words)}}


def encode_pass(path: Path, data_config: DataConfig, splitter: WordSplitter, vocabulary: dict[str, int],
                labels: Labels, entry: Path, progress: ReadProgress | None = None) -> np.ndarray:
    """Pass 2: ids, offsets, label ids and label offsets appended to `entry`'s .npy files chunk by chunk, as
    a cache entry holds them; returns the histogram of the texts' lengths (for max_len auto)."""
    arrays = {name: GrowingArray(entry / f"{name}.npy", dtype) for name, dtype in
              (("ids", np.int32), ("offsets", np.int64), ("label_ids", np.int32), ("label_offsets", np.int64))}
    arrays["offsets"].append(np.zeros(1))
    arrays["label_offsets"].append(np.zeros(1))
    tokens = label_count = 0
    length_counts = np.zeros(1, dtype=np.int64)
    for rows in rows_of(path, data_config, [], [], progress):
        corpus = splitter.encode([row.text for row in rows], vocabulary)
        arrays["ids"].append(corpus.ids)
        arrays["offsets"].append(corpus.offsets[1:] + tokens)
        tokens += len(corpus.ids)
        length_counts = summed_histograms(length_counts, corpus.length_histogram())
        names = [name for row in rows for name in (row.label if isinstance(row.label, tuple) else (row.label,))]
        arrays["label_ids"].append(np.array([labels.index[name] for name in names]))
        sizes = [len(row.label) if isinstance(row.label, tuple) else 1 for row in rows]
        arrays["label_offsets"].append(np.cumsum(sizes) + label_count)
        label_count += len(names)
    for array in arrays.values():
        array.close()
    return length_counts


def build_entry(path: Path, data_config: DataConfig, config: TokenizerConfig, work: Path,
                progress: ReadProgress | None = None) -> tuple[WordTokenizer, Labels, list[BadRow]]:
    """Both passes: the tokenizer; the arrays of a corpus-cache entry in `work`/entry; the labels and the rows
    skipped, for its metadata. The word counts spill into `work`/counts."""
    counts = WordCounts(work / "counts")
    labels, skipped = count_pass(path, data_config, config, counts, progress)
    splitter = word_splitter(config)
    hf = with_vocabulary(splitter.hf, vocabulary_of(counts, config))
    (work / "entry").mkdir()
    length_counts = encode_pass(path, data_config, splitter, hf.get_vocab(), labels, work / "entry", progress)
    return WordTokenizer(hf, resolve_max_len(config, length_counts)), labels, skipped
