"""Token ids: the facts stage 2 (text/) and batching (data/) share, below both.

<pad> is 0 and <unk> is 1 in every vocabulary. An encoded corpus keeps N ragged id sequences in
one flat int32 array with offsets, never in Python lists of lists.
"""
from __future__ import annotations

import itertools
import mmap
import os
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

PAD, UNK = "<pad>", "<unk>"
PAD_ID = 0
UNK_ID = 1  # words outside the vocabulary
LENGTHS_PIECE = 1 << 20  # texts whose lengths `EncodedCorpus.lengths_at` computes at once


@dataclass(frozen=True, eq=False)
class ArrayFile:
    """The .npy file of a memory-mapped array (a corpus's ids or offsets), open to read ranges of it with
    `os.pread`. Read through the memory map, texts at random places kept about 2 MB of the file in this
    process's memory for each text (the kernel maps a large folio of the page cache whole) until the pages
    were given back: at 30M texts, most of their 240 MB of offsets within 4,096 texts."""

    descriptor: int
    data_start: int  # where item 0 is, in bytes
    dtype: np.dtype

    @classmethod
    def of(cls, array: np.ndarray) -> ArrayFile | None:
        """The file of a memory-mapped `array` (None for one in memory), opened while it still has its name."""
        if not isinstance(array, np.memmap) or array.filename is None:
            return None
        opened = cls(os.open(array.filename, os.O_RDONLY), int(array.offset), array.dtype)
        weakref.finalize(opened, os.close, opened.descriptor)
        return opened

    def read(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The items of each range [start, start + length), one after another."""
        size = self.dtype.itemsize
        return np.frombuffer(b"".join(os.pread(self.descriptor, size * length, self.data_start + size * start)
                                      for start, length in zip(starts.tolist(), lengths.tolist())), dtype=self.dtype)


@dataclass(frozen=True)
class EncodedCorpus:
    """N ragged id sequences: sequence i is ids[offsets[i]:offsets[i + 1]], read cut to max_len.

    The arrays may be read-only memory maps of a cached corpus; truncation is a view, not a copy.
    """

    ids: np.ndarray  # (total_tokens,) int32
    offsets: np.ndarray  # (N + 1,) int64
    max_len: int | None = None
    file: ArrayFile | None = None  # where memory-mapped ids are read from
    offsets_file: ArrayFile | None = None  # and their offsets

    @classmethod
    def mapped(cls, ids: np.ndarray, offsets: np.ndarray) -> EncodedCorpus:
        """A corpus of memory-mapped .npy arrays, its texts' ids and bounds read from their files (`ArrayFile`)."""
        return cls(ids, offsets, file=ArrayFile.of(ids), offsets_file=ArrayFile.of(offsets))

    @classmethod
    def from_sequences(cls, sequences: list[list[int]]) -> EncodedCorpus:
        # accumulate + fromiter: as fast for one text (single-text latency) as for 50,000
        offsets = np.fromiter(itertools.accumulate(map(len, sequences), initial=0), dtype=np.int64,
                              count=len(sequences) + 1)
        ids = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int32, count=int(offsets[-1]))
        return cls(ids, offsets)

    @classmethod
    def concatenate(cls, parts: list[EncodedCorpus]) -> EncodedCorpus:
        if not parts:
            return cls(np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64))
        lengths = np.concatenate([p.lengths for p in parts])
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = [p.ids if p.max_len is None and p.file is None else p.read(p.offsets[:-1], p.lengths) for p in parts]
        return cls(np.concatenate(ids), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:  # (N,) int32, after truncation: computed on each use, never kept
        return self.lengths_at()

    def lengths_at(self, indices: np.ndarray | None = None) -> np.ndarray:
        """(n,) int32 lengths, cut to max_len, of the texts at `indices` (default: every text), from the offsets a
        piece at a time: at once, a large corpus's int64 temporaries would take 24 bytes a text."""
        count = len(self) if indices is None else len(indices)
        lengths = np.empty(count, dtype=np.int32)
        if indices is None:
            for start, piece in zip(range(0, count, LENGTHS_PIECE), self.length_pieces()):
                lengths[start : start + len(piece)] = piece
            return lengths
        for start in range(0, count, LENGTHS_PIECE):
            starts, ends = self.bounds_at(indices[start : start + LENGTHS_PIECE])
            piece = ends - starts
            lengths[start : start + len(piece)] = piece if self.max_len is None else np.minimum(piece, self.max_len)
        return lengths

    def bounds_at(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n,) int64 starts and ends, before truncation, of the texts at `indices`: a memory-mapped corpus's
        read from its offsets' file, which keeps those pages out of this process's memory."""
        if self.offsets_file is None:
            return self.offsets[indices], self.offsets[np.asarray(indices) + 1]
        pairs = self.offsets_file.read(np.asarray(indices), np.full(len(indices), 2)).reshape(-1, 2)  # (n, 2)
        return pairs[:, 0], pairs[:, 1]

    def length_pieces(self, cut: bool = True) -> Iterator[np.ndarray]:
        """Every text's length in order (cut to max_len, unless `cut` is False), LENGTHS_PIECE texts at a time;
        a memory-mapped corpus's offsets read are given back after each piece. Whole, a large corpus's lengths
        would take 8 bytes a text, and the pages of its offsets 8 more."""
        for start in range(0, len(self), LENGTHS_PIECE):
            piece = np.diff(self.offsets[start : start + LENGTHS_PIECE + 1])
            release_pages(self.offsets)
            yield piece if self.max_len is None or not cut else np.minimum(piece, self.max_len)

    def length_histogram(self) -> np.ndarray:
        """(longest + 1,) how many texts have each length before truncation."""
        histogram = np.zeros(1, dtype=np.int64)
        for piece in self.length_pieces(cut=False):
            histogram = summed_histograms(histogram, np.bincount(piece))
        return histogram

    def sequence(self, i: int) -> np.ndarray:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.ids[start : end if self.max_len is None else min(end, start + self.max_len)]

    def read(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The ids of each range [start, start + length), one after another: from the ids' file when they are
        memory-mapped, else from memory."""
        return self.ids[ranges(starts, lengths)] if self.file is None else self.file.read(starts, lengths)

    def release_pages(self) -> None:
        """`release_pages` of the ids and offsets (a no-op for a corpus in memory)."""
        release_pages(self.ids, self.offsets)

    def truncated(self, max_len: int) -> EncodedCorpus:
        """The same sequences read cut to their first max_len ids (no copy)."""
        return EncodedCorpus(self.ids, self.offsets, max_len, self.file, self.offsets_file)  # (dataclasses.replace: 5 us)

    def select(self, indices: np.ndarray) -> EncodedCorpus:
        """The sequences at `indices`, in that order, as read (cut to max_len): a copy."""
        lengths = self.lengths_at(indices)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return EncodedCorpus(self.read(self.bounds_at(indices)[0], lengths), offsets)


def summed_histograms(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two histograms of lengths (counts by length, of any two sizes) added."""
    total = np.zeros(max(len(first), len(second)), dtype=np.int64)
    total[: len(first)] += first
    total[: len(second)] += second
    return total


def index_dtype(count: int) -> type:
    """The smallest of int32 and int64 that holds positions 0 .. count - 1."""
    return np.int32 if count <= np.iinfo(np.int32).max else np.int64


def release_pages(*arrays: np.ndarray) -> None:
    """Give back this process's resident pages of memory-mapped arrays (arrays in memory are left alone). A pass
    in random order over a large memory-mapped corpus would otherwise keep every page it touched in the process's
    memory; a released page is read again from the page cache when next touched."""
    for array in arrays:
        base = array
        while isinstance(base, np.ndarray):
            base = base.base
        if isinstance(base, mmap.mmap):
            base.madvise(mmap.MADV_DONTNEED)


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start_i, ..., start_i + length_i - 1 of every range, one after another (vectorized)."""
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - (ends - lengths), lengths)
