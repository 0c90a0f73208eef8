"""Pretrained word vectors in the GloVe / word2vec / fastText `.vec` text format (gzip too).

One word and its values per line; a first line of two integers (count, dimension) is a header.
Only the vocabulary's words are kept, so a large file costs one pass, not its size in memory.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqclf.errors import DataError


@dataclass
class VectorCoverage:
    found: int
    vocabulary: int  # words in the vocabulary, specials not counted
    dimension: int

    def __str__(self) -> str:
        share = self.found / max(self.vocabulary, 1)
        return f"{self.found:,} of {self.vocabulary:,} vocabulary words found ({share:.0%}), dimension {self.dimension}"


def read_vectors(path: str | Path, vocabulary: dict[str, int], rows: int) -> tuple[np.ndarray, np.ndarray, VectorCoverage]:
    """Vectors of the vocabulary's words: a (rows, D) float32 array and a (rows,) bool mask of found rows."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    table: np.ndarray | None = None
    found = np.zeros(rows, dtype=bool)
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip().split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue  # word2vec / fastText header: count and dimension
                if len(parts) < 2:
                    if line.strip():
                        raise DataError("expected a word followed by numbers", path=path, line=number)
                    continue
                if table is None:
                    table = np.zeros((rows, len(parts) - 1), dtype=np.float32)
                if len(parts) - 1 != table.shape[1]:
                    raise DataError(f"{len(parts) - 1} values, earlier lines have {table.shape[1]}", path=path,
                                    line=number, hint="every vector must have the same dimension")
                index = vocabulary.get(parts[0])
                if index is None or found[index]:
                    continue  # not in the vocabulary, or a later duplicate
                try:
                    table[index] = np.asarray(parts[1:], dtype=np.float32)
                except ValueError:
                    raise DataError("a value is not a number", path=path, line=number) from None
                found[index] = True
    except FileNotFoundError:
        raise DataError("vectors file not found", path=path) from None
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataError(f"cannot read the vectors file: {exc}", path=path) from None
    if table is None:
        raise DataError("no vectors in the file", path=path)
    return table, found, VectorCoverage(int(found.sum()), max(len(vocabulary) - 2, 0), table.shape[1])
