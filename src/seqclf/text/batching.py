"""Batches of an encoded corpus: grouped by length, padded per batch, as NumPy arrays (text/tensors.py
makes them PyTorch tensors).

A batch is padded to its own longest sequence; since the model's output does not depend on
padding, this gives the same result as padding everything to max_len, at a fraction of the work.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from seqclf.ids import PAD_ID, EncodedCorpus, index_dtype
from seqclf.text.tokenizer import TokenizerConfig


def pad_ids(corpus: EncodedCorpus, indices: np.ndarray, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the chosen sequences padded with PAD_ID to `length` (default: their longest).

    Returns ids (B, T) int64 and lengths (B,) int64. Vectorized for a corpus in memory; a memory-mapped one
    reads each text's bounds and ids from their files (`ArrayFile`), which keeps them out of this process's memory.
    """
    if len(indices) == 1 and length is None:  # one text (single-text latency): no padding to compute
        ids = corpus.sequence(int(indices[0])).astype(np.int64)  # (T,)
        return ids[None, :], np.array([len(ids)])
    starts, ends = corpus.bounds_at(indices)  # (B,) each
    lengths = ends - starts if corpus.max_len is None else np.minimum(ends - starts, corpus.max_len)  # (B,)
    width = int(lengths.max()) if length is None else length
    lengths = np.minimum(lengths, width)
    mask = np.arange(width)[None, :] < lengths[:, None]  # (B, T)
    ids = np.full((len(indices), width), PAD_ID, dtype=np.int64)  # (B, T)
    ids[mask] = corpus.read(starts, lengths)  # row by row, as the mask's True cells are ordered
    return ids, lengths


def length_bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                            bucket_batches: int = 50) -> Iterator[np.ndarray]:
    """Shuffled batches of indices whose members have similar lengths; every index once per epoch.

    Indices are shuffled, cut into pools of `bucket_batches` batches, sorted by length inside each
    pool and cut into batches; then the batches are shuffled. Sorting within a pool (not globally)
    keeps batches random while padding stays small.
    """
    order = np.arange(len(lengths), dtype=index_dtype(len(lengths)))
    rng.shuffle(order)  # rng.permutation's order, in half the memory
    pool = batch_size * bucket_batches
    starts = []  # each pool's batches as (start, end) in `order`, sorted in place: 4 bytes an example in all
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk[:] = chunk[np.argsort(lengths[chunk], kind="stable")]
        starts.append(np.arange(start, start + len(chunk), batch_size))
    starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)  # (batches,)
    ends = np.minimum(starts + batch_size, (starts // pool + 1) * pool)  # a pool's last batch may be smaller
    for b in rng.permutation(len(starts)):
        yield order[starts[b] : ends[b]]


class BucketSampler:
    """`length_bucketed_batches`, epoch after epoch, from one seeded generator whose state at the
    start of the current epoch can be saved and restored (to resume mid-epoch exactly).

    Distributed (`world_size` > 1): every rank draws the same global batches from the same seeded
    generator (a new order each epoch) and takes its share of each: members rank, rank + world_size,
    ... of the length-sorted batch. So each example is seen once per epoch across the ranks, every
    rank steps once per global batch (as DistributedDataParallel needs), and a step's examples have
    similar lengths on every rank. A batch smaller than world_size is merged into its neighbour.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        if len(lengths) < world_size:
            raise ValueError(f"{len(lengths)} examples cannot be shared by {world_size} processes")
        self.lengths, self.batch_size = np.asarray(lengths, dtype=np.int32), batch_size  # (N,) cut to max_len
        self.rank, self.world_size = rank, world_size
        self.rng = np.random.default_rng(seed)
        self.epoch_start = self.rng.bit_generator.state

    def epoch(self) -> Iterator[np.ndarray]:
        self.epoch_start = self.rng.bit_generator.state
        batches = length_bucketed_batches(self.lengths, self.batch_size, self.rng)
        if self.world_size == 1:
            return batches
        return (batch[self.rank :: self.world_size] for batch in merge_small(list(batches), self.world_size))

    def state(self, mid_epoch: bool) -> dict:
        """JSON-able: the generator at the start of the epoch in progress, or of the next one."""
        return self.epoch_start if mid_epoch else self.rng.bit_generator.state

    def restore(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def merge_small(batches: list[np.ndarray], smallest: int) -> list[np.ndarray]:
    """The batches, with any of fewer than `smallest` members joined to its neighbour."""
    merged: list[np.ndarray] = []
    for batch in batches:
        if merged and (len(batch) < smallest or len(merged[-1]) < smallest):
            merged[-1] = np.concatenate([merged[-1], batch])
        else:
            merged.append(batch)
    return merged


def sorted_batches(lengths: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Batches in length order, for inference: least padding; callers restore input order."""
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


@dataclass(frozen=True)
class Chunking:
    """How texts longer than max_len are read whole (long_text=chunk): windows of max_len ids, one starting
    every `stride` ids, whose logits are pooled (`pooling`: mean or max) into the text's."""

    max_len: int
    stride: int
    pooling: str

    @classmethod
    def of(cls, config: TokenizerConfig, max_len: int) -> Chunking | None:
        """The chunking the settings ask for (the stride resolved: half of max_len by default), or None
        for truncation."""
        if config.long_text != "chunk":
            return None
        stride = min(config.window_stride, max_len) if config.window_stride is not None else max(1, max_len // 2)
        return cls(max_len, stride, config.window_pooling)

    def window_counts(self, lengths: np.ndarray) -> np.ndarray:
        """(N,) windows of texts of (N,) token counts: one, and one more per stride past max_len."""
        return 1 + -(-np.maximum(lengths - self.max_len, 0) // self.stride)

    def windows(self, corpus: EncodedCorpus, texts: np.ndarray | None = None
                ) -> tuple[EncodedCorpus, np.ndarray, np.ndarray]:
        """Every text (or those at `texts`) in windows of max_len ids, all its ids however long (`corpus.max_len`
        is ignored): windows start every `stride` ids and the last one ends at the text's end; a text of at most
        max_len ids is one window. Returns the windows as a corpus (W sequences), each window's text as a
        position in `texts` (W,), and its first id's place in the text (W,)."""
        texts = np.arange(len(corpus)) if texts is None else np.asarray(texts)
        full = _whole_lengths(corpus, texts)  # (N,)
        counts = self.window_counts(full)  # (N,)
        owners = np.repeat(np.arange(len(texts)), counts)  # (W,)
        within = np.arange(len(owners)) - np.repeat(np.cumsum(counts) - counts, counts)  # (W,) 0, 1, ... per text
        starts = np.minimum(within * self.stride, np.maximum(full[owners] - self.max_len, 0))  # (W,)
        return _slices(corpus, texts[owners], starts, np.minimum(full[owners], self.max_len)), owners, starts


def sample_windows(corpus: EncodedCorpus, indices: np.ndarray, max_len: int,
                   rng: np.random.Generator) -> EncodedCorpus:
    """One window of `max_len` ids of each text at `indices`, at a random start (for training); a text of at
    most max_len ids is itself."""
    full = _whole_lengths(corpus, indices)  # (B,)
    starts = rng.integers(0, np.maximum(full - max_len, 0) + 1)  # (B,)
    return _slices(corpus, indices, starts, np.minimum(full, max_len))


def _whole_lengths(corpus: EncodedCorpus, texts: np.ndarray) -> np.ndarray:
    """The whole length of each text at `texts` (not cut to max_len); only theirs are computed, as a training
    batch asks for a few texts of a large corpus."""
    return corpus.offsets[texts + 1] - corpus.offsets[texts]


def _slices(corpus: EncodedCorpus, texts: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> EncodedCorpus:
    """The ids texts[i][starts[i] : starts[i] + lengths[i]] as a corpus of their own (a copy)."""
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return EncodedCorpus(corpus.read(corpus.offsets[texts] + starts, lengths), offsets)
