"""On-disk cache of encoded data files: memory-mapped .npy arrays, keyed by content and settings.

An entry is a directory `<root>/<key>/` holding ids.npy, offsets.npy, label_ids.npy and meta.json
(label names, vocabulary size, skipped rows and, for a training file, the tokenizer). Arrays are
loaded with mmap_mode="r" and allow_pickle=False. An entry is checked whole before it is used
(dtypes, offsets, every id within the vocabulary, every label index within the names): a damaged
entry of any kind is a one-line warning and is rebuilt; a cache that cannot be written is a warning,
never a failed run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tokenizers

from seqclf.data.formats import BadRow
from seqclf.errors import SeqclfWarning, WriteError
from seqclf.fileio import replace_directory
from seqclf.ids import release_pages

CACHE_VERSION = 4  # 2: meta.json holds vocab_size and every skipped row; 3: label sets (label_offsets); 4: the task
ARRAYS = ("ids", "offsets", "label_ids", "label_offsets")
ENTRY_FILES = (*(f"{name}.npy" for name in ARRAYS), "meta.json")
BAD_ROW_FIELDS = {f.name for f in dataclasses.fields(BadRow)}


def default_cache_dir() -> Path:
    if "SEQCLF_CACHE_DIR" in os.environ:
        return Path(os.environ["SEQCLF_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seqclf"


def cache_key(**parts: Any) -> str:
    """A key from everything the cached arrays depend on."""
    parts = {"cache_version": CACHE_VERSION, "tokenizers": tokenizers.__version__, **parts}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class CorpusCache:
    """`root=None` disables caching."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def load(self, key: str, source: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The entry's arrays (memory-mapped) and metadata; None on a miss or a damaged entry."""
        if self.root is None:
            return None
        entry = self.root / key
        if not entry.exists():
            return None
        reading = "meta.json"
        try:
            meta = json.loads((entry / reading).read_text("utf-8"))
            arrays = {}
            for name in ARRAYS:
                reading = f"{name}.npy"
                arrays[name] = np.load(entry / reading, mmap_mode="r", allow_pickle=False)
            reading = "meta.json"
            problem = _inconsistency(arrays, meta)
        except (OSError, ValueError, TypeError, KeyError):
            problem = f"{reading} cannot be read"
        if problem is not None:
            self.damaged(source, problem)
            return None
        return arrays, meta

    def damaged(self, source: str, problem: str) -> None:
        warnings.warn(SeqclfWarning(f"the cached encoding of {source} in {self.root} is damaged ({problem}); "
                                    "encoding the file again"), stacklevel=3)

    def store(self, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        writers = {f"{name}.npy": _array_writer(arrays[name]) for name in ARRAYS}
        writers["meta.json"] = lambda path: path.write_text(json.dumps(meta), encoding="utf-8")
        self._put(key, writers)

    def adopt(self, key: str, built: Path) -> bool:
        """An entry's files, made elsewhere (`built`, on the cache's file system), moved in as `key`'s entry;
        false if they could not be (then they stay where they are)."""
        writers = {name: (lambda path, name=name: os.replace(built / name, path)) for name in ENTRY_FILES}
        return self._put(key, writers)

    def _put(self, key: str, writers: dict[str, Callable[[Path], None]]) -> bool:
        if self.root is None:
            return False
        try:
            # a damaged entry that load() refused is replaced; a cache need not survive a power cut
            replace_directory(self.root / key, writers, durable=False)
        except OSError as exc:  # a WriteError naming the file, or a directory that cannot be made
            reason = exc.cause if isinstance(exc, WriteError) else exc.strerror or str(exc)
            warnings.warn(SeqclfWarning(f"could not write the corpus cache in {self.root} ({reason}); going on "
                                        "without it (--cache-dir DIR to choose another place, --no-cache for none)"),
                          stacklevel=3)
            return False
        return True


def _array_writer(array: np.ndarray) -> Callable[[Path], None]:
    return lambda path: np.save(path, np.ascontiguousarray(array), allow_pickle=False)


def _inconsistency(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> str | None:
    """What is wrong with an entry's arrays, or None. Reads every id once (a fraction of encoding it)."""
    ids, offsets, label_ids, label_offsets = (arrays[name] for name in ARRAYS)
    vocab_size, names, skipped = meta["vocab_size"], meta["label_names"], meta["skipped"]
    if not (isinstance(vocab_size, int) and isinstance(names, list) and all(isinstance(n, str) for n in names)):
        return "unreadable metadata"
    if not (isinstance(skipped, list) and all(isinstance(r, dict) and set(r) == BAD_ROW_FIELDS for r in skipped)):
        return "unreadable list of skipped rows"
    if (ids.dtype, offsets.dtype, label_ids.dtype) != (np.int32, np.int64, np.int32):
        return "unexpected array types"
    if label_offsets.dtype != np.int64 or label_ids.ndim != 1 or label_offsets.ndim != 1:
        return "unexpected array types"
    if ids.ndim != 1 or offsets.ndim != 1 or len(offsets) != len(label_offsets):
        return "array shapes do not match"
    for starts, items in ((offsets, ids), (label_offsets, label_ids)):
        if int(starts[0]) != 0 or int(starts[-1]) != len(items) or not _every_piece(starts, _ascending):
            return "offsets out of order"
    if len(ids) and not _every_piece(ids, lambda piece: 0 <= int(piece.min()) and int(piece.max()) < vocab_size):
        return f"token ids outside the vocabulary of {vocab_size}"
    if len(label_ids) and not _every_piece(label_ids, lambda piece: 0 <= int(piece.min()) and
                                           int(piece.max()) < len(names)):
        return "label indices outside the label names"
    return None


CHECKED_PIECE = 1 << 24  # elements checked at a time: a large entry is never held whole, nor its differences


def _every_piece(array: np.ndarray, holds: Callable[[np.ndarray], bool]) -> bool:
    """Whether `holds` is true of every piece of `array` (consecutive pieces share an element), read a piece at
    a time with its memory-mapped pages given back as the check goes."""
    for start in range(0, max(len(array) - 1, 1), CHECKED_PIECE):
        held = holds(array[start : start + CHECKED_PIECE + 1])
        release_pages(array)
        if not held:
            return False
    return True


def _ascending(starts: np.ndarray) -> bool:
    return not bool((np.diff(starts) < 0).any())
