"""Exact word counts of a corpus larger than memory, and the vocabulary they give.

Words are counted in memory until SPILL_WORDS distinct ones are held; then the counts are spilled to
PARTITIONS files on disk, a word always to the same one (by a hash of it), and counting starts again.
At the end each partition is read back alone: it holds every count of its own words and about
1/PARTITIONS of the distinct words. The vocabulary is then made as `WordSplitter.train` makes it
(counts descending, then the word; at least `min_freq`; at most `size` entries), keeping at most
`size` candidates at a time: memory is bounded by SPILL_WORDS and by the vocabulary itself, not by
the corpus.
"""
from __future__ import annotations

import heapq
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

SPILL_WORDS = 2_000_000  # distinct words counted in memory before they go to disk
PARTITIONS = 64


class WordCounts:
    """Counts of words, exact, held in memory up to `spill_words` distinct words and on disk (in `directory`)
    beyond."""

    def __init__(self, directory: Path, spill_words: int | None = None) -> None:
        self.directory, self.spill_words = directory, spill_words or SPILL_WORDS
        self.counts: Counter[str] = Counter()
        self.spills = 0

    def add(self, words: Iterable[str]) -> None:
        """The words of a piece of the corpus, counted (an iterable that is not a mapping: counted in C)."""
        self.counts.update(words)
        if len(self.counts) > self.spill_words:
            self._spill()

    def _spill(self) -> None:
        """The counts in memory, appended to their partitions' files (one JSON object per spill and partition)."""
        parts: list[dict[str, int]] = [{} for _ in range(PARTITIONS)]
        for word, count in self.counts.items():
            parts[_partition(word)][word] = count
        self.directory.mkdir(parents=True, exist_ok=True)
        for index, part in enumerate(parts):
            if part:
                with open(self._file(index), "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(part, ensure_ascii=False) + "\n")
        self.counts.clear()
        self.spills += 1

    def _file(self, index: int) -> Path:
        return self.directory / f"counts-{index:02d}.jsonl"

    def totals(self) -> Iterator[tuple[str, int]]:
        """Every word with its whole count, a partition at a time (or straight from memory if nothing was spilled)."""
        if not self.spills:
            yield from self.counts.items()
            return
        self._spill()
        for index in range(PARTITIONS):
            if not self._file(index).exists():
                continue
            merged: Counter[str] = Counter()
            with open(self._file(index), encoding="utf-8") as handle:
                for line in handle:
                    merged.update(json.loads(line))
            yield from merged.items()

    def vocabulary_order(self, min_freq: int, size: int) -> list[str]:
        """The words kept, in vocabulary order: by count, descending, then by the word; each seen at least
        `min_freq` times; `size` at most."""
        kept = ((word, count) for word, count in self.totals() if count >= min_freq)
        best = heapq.nsmallest(size, kept, key=lambda item: (-item[1], item[0]))
        return [word for word, _ in best]


def _partition(word: str) -> int:
    return zlib.crc32(word.encode("utf-8", "surrogatepass")) % PARTITIONS
