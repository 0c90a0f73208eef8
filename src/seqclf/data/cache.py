"""On-disk cache of encoded data files: memory-mapped .npy arrays, keyed by content and settings.

An entry is a directory `<root>/<key>/` holding ids.npy, offsets.npy, label_ids.npy, meta.json
and, for a training file, tokenizer.json. Arrays are loaded with mmap_mode="r" and
allow_pickle=False. A damaged entry is ignored and rebuilt; a cache that cannot be written is a
warning, never a failed run.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tokenizers

CACHE_VERSION = 1
ARRAYS = ("ids", "offsets", "label_ids")


def default_cache_dir() -> Path:
    if "SEQCLF_CACHE_DIR" in os.environ:
        return Path(os.environ["SEQCLF_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seqclf"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(**parts: Any) -> str:
    """A key from everything the cached arrays depend on."""
    parts = {"cache_version": CACHE_VERSION, "tokenizers": tokenizers.__version__, **parts}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class CorpusCache:
    """`root=None` disables caching."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        if self.root is None:
            return None
        entry = self.root / key
        try:
            meta = json.loads((entry / "meta.json").read_text("utf-8"))
            arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        except (OSError, ValueError):
            return None
        ids, offsets, label_ids = arrays["ids"], arrays["offsets"], arrays["label_ids"]
        consistent = (
            ids.dtype == np.int32 and offsets.dtype == np.int64 and label_ids.dtype == np.int32
            and len(offsets) == len(label_ids) + 1 and int(offsets[-1]) == len(ids)
        )
        return (arrays, meta) if consistent else None

    def store(self, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        if self.root is None:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".entry.", dir=self.root))
            try:
                for name in ARRAYS:
                    np.save(staging / f"{name}.npy", np.ascontiguousarray(arrays[name]), allow_pickle=False)
                (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
                target = self.root / key
                if target.exists():
                    shutil.rmtree(target)  # a damaged entry that load() refused
                os.replace(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError as exc:
            warnings.warn(f"seqclf: could not write the corpus cache in {self.root}: {exc}", stacklevel=2)
