"""Data sets after stage 2: ids in an EncodedCorpus and labels as small integers.

Files go through the on-disk cache: the second run on the same file and settings memory-maps
the ids instead of reading and tokenizing again.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from seqclf.text import streamed_corpus
from seqclf.text.cache import ARRAYS, CorpusCache, cache_key
from seqclf.data.readers import BadRow, Dataset, label_sets_seen, read_dataset
from seqclf.data.settings import DataConfig
from seqclf.data.streams import ReadProgress
from seqclf.errors import DataError
from seqclf.fileio import sha256_of
from seqclf.ids import EncodedCorpus
from seqclf.task import SINGLE_LABEL, Task, task_named, task_of
from seqclf.text.tokenizer import TokenizerConfig, WordTokenizer, resolve_max_len


@dataclass
class EncodedData:
    """A data set after stage 2. Single-label: `label_ids` (N,) int32 indices into `label_names`. Multi-label:
    example i's labels are label_ids[label_offsets[i]:label_offsets[i + 1]] (ragged, like the ids)."""

    corpus: EncodedCorpus
    label_ids: np.ndarray  # (N,) int32, indices into label_names; multi-label: (total labels,)
    label_names: list[str]  # in first-seen order
    source: str
    skipped: list[BadRow] = field(default_factory=list)  # rows left out (with skip_bad_rows)
    seconds: float = 0.0  # to read and encode, or to load from the cache
    read_seconds: float = 0.0  # of which reading and parsing the file
    from_cache: bool = False
    task: Task = SINGLE_LABEL  # what the labels are: one class each, or label sets
    label_offsets: np.ndarray | None = None  # (N + 1,) int64 for multi-label data, else None
    detected: str | None = None  # where the data showed it is multi-label, when the settings did not say

    def __len__(self) -> int:
        return len(self.corpus)

    @property
    def label_bounds(self) -> np.ndarray:
        """(N + 1,) where each example's labels start in `label_ids` (single-label data: one each)."""
        return self.label_offsets if self.label_offsets is not None else np.arange(len(self) + 1, dtype=np.int64)

    @property
    def tokens(self) -> int:
        return sum(int(piece.sum()) for piece in self.corpus.length_pieces())


def check_known_labels(labels: list[str], known: list[str], source: str) -> None:
    """Every label must be a class of the model (seen in the training data)."""
    unknown = sorted(set(labels) - set(known))
    if unknown:
        raise DataError(f"labels not seen in training: {', '.join(map(repr, unknown[:5]))}", path=source,
                        field="labels", hint="every class must appear in the training data")


def targets(data: EncodedData, classes: list[str], task: Task) -> np.ndarray:
    """A `task` model's targets for `data`, its labels as indices into `classes`: (N,) int16 class indices, or
    (N, C) float32 multi-hot label sets (single-label data: one 1 per row)."""
    task.check_data(data.task, data.source)  # before the labels are looked up: the first thing wrong is said
    return task.targets(_remap(data, classes)[data.label_ids], data.label_bounds, len(classes))


def _remap(data: EncodedData, classes: list[str]) -> np.ndarray:
    check_known_labels(data.label_names, classes, data.source)
    index = {name: i for i, name in enumerate(classes)}
    # int16: a large corpus's targets take 2 bytes each (the loss reads a batch's as int64)
    return np.array([index[name] for name in data.label_names], dtype=np.int16 if len(classes) < 2**15 else np.int32)


def _label_ids(data: Dataset) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Label ids (flat for label sets), names in first-seen order, and the sets' offsets (None: one label each)."""
    index: dict[str, int] = {}
    if not data.task.label_sets:
        labels = data.labels
        ids = np.fromiter((index.setdefault(label, len(index)) for label in labels), dtype=np.int32, count=len(labels))
        return ids, list(index), None
    offsets = np.zeros(len(data.labels) + 1, dtype=np.int64)
    np.cumsum([len(labels) for labels in data.labels], out=offsets[1:])
    ids = np.fromiter((index.setdefault(label, len(index)) for labels in data.labels for label in labels),
                      dtype=np.int32, count=int(offsets[-1]))
    return ids, list(index), offsets


def _encoded(data: Dataset, corpus: EncodedCorpus, started: float) -> EncodedData:
    label_ids, names, offsets = _label_ids(data)
    return EncodedData(corpus, label_ids, names, data.source, data.skipped, time.perf_counter() - started,
                       task=data.task, label_offsets=offsets, detected=data.detected)


def encode_training_data(data: Dataset, config: TokenizerConfig) -> tuple[WordTokenizer, EncodedData]:
    """Build the vocabulary on `data` and encode it."""
    started = time.perf_counter()
    tokenizer, corpus = WordTokenizer.train(data.texts, config)
    return tokenizer, _encoded(data, corpus, started)


def encode_data(data: Dataset, tokenizer: WordTokenizer) -> EncodedData:
    started = time.perf_counter()
    return _encoded(data, tokenizer.encode(data.texts), started)


def _data_settings(config: DataConfig) -> dict:
    return {name: value for name, value in vars(config).items() if name != "label_order"}


def encode_training_file(path: str | Path, data_config: DataConfig, config: TokenizerConfig, cache: CorpusCache,
                         progress: ReadProgress | None = None) -> tuple[WordTokenizer, EncodedData]:
    """Read, build the vocabulary and encode a training file, or load all that from the cache; `progress`
    follows the passes over the file."""
    path = Path(path)
    started = time.perf_counter()
    key = None
    if cache.root is not None and path.is_file():
        tokenizer_settings = {k: v for k, v in vars(config).items() if not k.startswith("max_len")}
        key = cache_key(kind="train", file=sha256_of(path), data=_data_settings(data_config),
                        tokenizer=tokenizer_settings)
        hit = cache.load(key, str(path))
        if hit is not None:
            arrays, meta = hit
            raw = EncodedCorpus.mapped(arrays["ids"], arrays["offsets"])
            tokenizer = _cached_tokenizer(meta, resolve_max_len(config, raw.length_histogram()))
            if tokenizer is not None:
                return tokenizer, _from_cache(raw.truncated(tokenizer.max_len), arrays, meta, path, started)
            cache.damaged(str(path), "its vocabulary does not match its ids")
    if path.is_file() and path.stat().st_size > streamed_corpus.STREAM_ABOVE_BYTES:
        return _encode_streamed(path, data_config, config, cache, key, started, progress)
    data = read_dataset(path, data_config, progress=progress)
    read_seconds = time.perf_counter() - started
    tokenizer, encoded = encode_training_data(data, config)
    del data  # the texts: only ids are kept
    if key is not None:
        _store(cache, key, encoded, tokenizer.vocab_size, tokenizer=tokenizer.to_json())
    return tokenizer, replace(encoded, seconds=time.perf_counter() - started, read_seconds=read_seconds)


def encode_file(path: str | Path, config: DataConfig, tokenizer: WordTokenizer, cache: CorpusCache) -> EncodedData:
    """Read and encode a labeled file with an existing vocabulary, or load it from the cache."""
    path = Path(path)
    started = time.perf_counter()
    key = None
    if cache.root is not None and path.is_file():
        key = cache_key(kind="encode", file=sha256_of(path), data=_data_settings(config),
                        vocabulary=tokenizer.fingerprint())
        hit = cache.load(key, str(path))
        if hit is not None:
            arrays, meta = hit
            if meta["vocab_size"] == tokenizer.vocab_size:
                corpus = EncodedCorpus.mapped(arrays["ids"], arrays["offsets"]).truncated(tokenizer.max_len)
                return _from_cache(corpus, arrays, meta, path, started)
            cache.damaged(str(path), "its vocabulary size differs from the model's")
    data = read_dataset(path, config)
    read_seconds = time.perf_counter() - started
    encoded = encode_data(data, tokenizer)
    if key is not None:
        _store(cache, key, encoded, tokenizer.vocab_size)
    return replace(encoded, seconds=time.perf_counter() - started, read_seconds=read_seconds)


def _encode_streamed(path: Path, data_config: DataConfig, config: TokenizerConfig, cache: CorpusCache,
                     key: str | None, started: float, progress: ReadProgress | None) -> tuple[WordTokenizer, EncodedData]:
    """A file larger than STREAM_ABOVE_BYTES, encoded in two passes into an entry of the cache (of a temporary
    directory with no cache) and memory-mapped from there: neither its texts nor all its ids are held."""
    with tempfile.TemporaryDirectory(prefix=".streamed.", dir=_writable(cache.root)) as work:
        tokenizer, labels, skipped = streamed_corpus.build_entry(path, data_config, config, Path(work), progress)
        task = task_of(data_config.task.label_sets or labels.first_set is not None)
        detected = None if task == data_config.task else label_sets_seen(str(path), *labels.first_set)
        meta = _meta(list(labels.index), tokenizer.vocab_size, task, detected, str(path), skipped,
                     tokenizer=tokenizer.to_json())
        (Path(work) / "entry" / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        entry = Path(work) / "entry"
        if key is not None and cache.adopt(key, entry):
            entry = cache.root / key
        arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        corpus = EncodedCorpus.mapped(arrays["ids"], arrays["offsets"]).truncated(tokenizer.max_len)
    # the files may be gone now (no cache): their memory maps, and the ids' file as opened, stay readable
    return tokenizer, replace(_from_cache(corpus, arrays, meta, path, started), from_cache=False)


def _writable(root: Path | None) -> Path | None:
    """The cache's folder, made if need be, for work files that end up in it; None (the system's temporary
    folder) without a cache or where it cannot be made."""
    if root is None:
        return None
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return root


def _meta(label_names: list[str], vocab_size: int, task: Task, detected: str | None, source: str,
          skipped: list[BadRow], **extra: str) -> dict:
    """A cache entry's metadata."""
    return {"label_names": label_names, "vocab_size": vocab_size, "task": task.name,
            # where the label lists were seen, without the file's name (a cache entry is found by content)
            "detected": None if detected is None else detected.removeprefix(source),
            "skipped": [row.to_dict() for row in skipped], **extra}


def _store(cache: CorpusCache, key: str, encoded: EncodedData, vocab_size: int, **extra: str) -> None:
    arrays = {"ids": encoded.corpus.ids, "offsets": encoded.corpus.offsets, "label_ids": encoded.label_ids,
              "label_offsets": encoded.label_bounds}
    cache.store(key, arrays, _meta(encoded.label_names, vocab_size, encoded.task, encoded.detected, encoded.source,
                                   encoded.skipped, **extra))


def _cached_tokenizer(meta: dict, max_len: int) -> WordTokenizer | None:
    """The tokenizer a training entry was encoded with, if it is readable and matches the entry's ids."""
    try:
        tokenizer = WordTokenizer.from_json(meta["tokenizer"], max_len)
    except Exception:  # the tokenizers library raises plain Exception on a damaged definition
        return None
    return tokenizer if tokenizer.vocab_size == meta["vocab_size"] else None


def _from_cache(corpus: EncodedCorpus, arrays: dict[str, np.ndarray], meta: dict, path: Path,
                started: float) -> EncodedData:
    skipped = [BadRow.from_dict(row) for row in meta["skipped"]]
    return EncodedData(corpus, arrays["label_ids"], meta["label_names"], str(path), skipped,
                       time.perf_counter() - started, from_cache=True, task=task_named(meta["task"]),
                       label_offsets=arrays["label_offsets"] if task_named(meta["task"]).label_sets else None,
                       detected=None if meta.get("detected") is None else f"{path}{meta['detected']}")
