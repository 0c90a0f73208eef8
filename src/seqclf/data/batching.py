"""Encoded corpus and batches: ragged ids stored flat, grouped by length, padded per batch.

Ids live in one flat int32 array with offsets, never in Python lists of lists. A batch is padded
to its own longest sequence; since the model's output does not depend on padding, this gives the
same result as padding everything to max_len, at a fraction of the work.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import torch

PAD_ID = 0
UNK_ID = 1  # words outside the vocabulary


@dataclass(frozen=True)
class EncodedCorpus:
    """N ragged id sequences: sequence i is ids[offsets[i]:offsets[i + 1]], read cut to max_len.

    The arrays may be read-only memory maps of a cached corpus; truncation is a view, not a copy.
    """

    ids: np.ndarray  # (total_tokens,) int32
    offsets: np.ndarray  # (N + 1,) int64
    max_len: int | None = None

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
        lengths = np.concatenate([np.diff(p.offsets) for p in parts])
        return cls(np.concatenate([p.ids for p in parts]), _offsets(lengths))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @cached_property
    def lengths(self) -> np.ndarray:  # (N,) int64, after truncation
        lengths = np.diff(self.offsets)
        return lengths if self.max_len is None else np.minimum(lengths, self.max_len)

    def sequence(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i] + self.lengths[i]]

    def truncated(self, max_len: int) -> EncodedCorpus:
        """The same sequences read cut to their first max_len ids (no copy)."""
        return replace(self, max_len=max_len)


def _offsets(lengths: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def pad_batch(corpus: EncodedCorpus, indices: np.ndarray, length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids of the chosen sequences padded with PAD_ID to `length` (default: their longest).

    Returns ids (B, T) int64 and lengths (B,) int64. Vectorized: no per-example Python work.
    """
    if len(indices) == 1 and length is None:  # one text (single-text latency): no padding to compute
        ids = corpus.sequence(int(indices[0])).astype(np.int64)  # (T,)
        return torch.from_numpy(ids).unsqueeze(0), torch.tensor([len(ids)])
    lengths = corpus.lengths[indices]  # (B,)
    width = int(lengths.max()) if length is None else length
    steps = np.arange(width)  # (T,)
    mask = steps[None, :] < lengths[:, None]  # (B, T)
    positions = np.minimum(corpus.offsets[indices][:, None] + steps[None, :], len(corpus.ids) - 1)  # (B, T)
    ids = np.where(mask, corpus.ids[positions], PAD_ID)  # (B, T)
    return torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(np.minimum(lengths, width))


def length_bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                            bucket_batches: int = 50) -> Iterator[np.ndarray]:
    """Shuffled batches of indices whose members have similar lengths; every index once per epoch.

    Indices are shuffled, cut into pools of `bucket_batches` batches, sorted by length inside each
    pool and cut into batches; then the batches are shuffled. Sorting within a pool (not globally)
    keeps batches random while padding stays small.
    """
    order = rng.permutation(len(lengths))
    pool = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    for b in rng.permutation(len(batches)):
        yield batches[b]


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
        self.lengths, self.batch_size = lengths, batch_size
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
