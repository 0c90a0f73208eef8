"""Data sets after stage 2: ids in an EncodedCorpus and labels as small integers.

Files go through the on-disk cache: the second run on the same file and settings memory-maps
the ids instead of reading and tokenizing again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from seqclf.config import Config, DataConfig
from seqclf.data.batching import EncodedCorpus
from seqclf.data.cache import CorpusCache, cache_key, file_digest
from seqclf.data.readers import Dataset, read_dataset
from seqclf.text.tokenizer import WordTokenizer, resolve_max_len


@dataclass
class EncodedData:
    corpus: EncodedCorpus
    label_ids: np.ndarray  # (N,) int32, indices into label_names
    label_names: list[str]  # in first-seen order
    source: str
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0  # to read and encode, or to load from the cache
    read_seconds: float = 0.0  # of which reading and parsing the file
    from_cache: bool = False

    def __len__(self) -> int:
        return len(self.label_ids)

    @property
    def tokens(self) -> int:
        return int(self.corpus.lengths.sum())


def _label_ids(labels: list[str]) -> tuple[np.ndarray, list[str]]:
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(label, len(index)) for label in labels), dtype=np.int32, count=len(labels))
    return ids, list(index)


def encode_training_data(data: Dataset, config: Config) -> tuple[WordTokenizer, EncodedData]:
    """Build the vocabulary on `data` and encode it."""
    started = time.perf_counter()
    tokenizer, corpus = WordTokenizer.train(data.texts, config.tokenizer)
    label_ids, names = _label_ids(data.labels)
    return tokenizer, EncodedData(corpus, label_ids, names, data.source, data.skipped, data.skipped_examples,
                                  time.perf_counter() - started)


def encode_data(data: Dataset, tokenizer: WordTokenizer) -> EncodedData:
    started = time.perf_counter()
    label_ids, names = _label_ids(data.labels)
    return EncodedData(tokenizer.encode(data.texts), label_ids, names, data.source, data.skipped,
                       data.skipped_examples, time.perf_counter() - started)


def _data_settings(config: DataConfig) -> dict:
    return {"format": config.format, "text": config.text_column, "label": config.label_column,
            "skip_bad_rows": config.skip_bad_rows}


def encode_training_file(path: str | Path, config: Config, cache: CorpusCache) -> tuple[WordTokenizer, EncodedData]:
    """Read, build the vocabulary and encode a training file, or load all that from the cache."""
    path = Path(path)
    started = time.perf_counter()
    key = None
    if cache.root is not None and path.is_file():
        tokenizer_settings = {k: v for k, v in vars(config.tokenizer).items() if not k.startswith("max_len")}
        key = cache_key(kind="train", file=file_digest(path), data=_data_settings(config.data),
                        tokenizer=tokenizer_settings)
        hit = cache.load(key)
        if hit is not None:
            arrays, meta = hit
            raw = EncodedCorpus(arrays["ids"], arrays["offsets"])
            tokenizer = WordTokenizer.from_json(meta["tokenizer"], resolve_max_len(config.tokenizer, raw.lengths))
            return tokenizer, EncodedData(raw.truncated(tokenizer.max_len), arrays["label_ids"], meta["label_names"],
                                          str(path), meta["skipped"], meta["skipped_examples"],
                                          time.perf_counter() - started, from_cache=True)
    data = read_dataset(path, config.data)
    read_seconds = time.perf_counter() - started
    tokenizer, encoded = encode_training_data(data, config)
    del data  # the texts: only ids are kept
    if key is not None:
        _store(cache, key, encoded, tokenizer=tokenizer.to_json())
    return tokenizer, replace(encoded, seconds=time.perf_counter() - started, read_seconds=read_seconds)


def encode_file(path: str | Path, config: DataConfig, tokenizer: WordTokenizer, cache: CorpusCache) -> EncodedData:
    """Read and encode a labeled file with an existing vocabulary, or load it from the cache."""
    path = Path(path)
    started = time.perf_counter()
    key = None
    if cache.root is not None and path.is_file():
        key = cache_key(kind="encode", file=file_digest(path), data=_data_settings(config),
                        vocabulary=tokenizer.fingerprint())
        hit = cache.load(key)
        if hit is not None:
            arrays, meta = hit
            corpus = EncodedCorpus(arrays["ids"], arrays["offsets"]).truncated(tokenizer.max_len)
            return EncodedData(corpus, arrays["label_ids"], meta["label_names"], str(path), meta["skipped"],
                               meta["skipped_examples"], time.perf_counter() - started, from_cache=True)
    data = read_dataset(path, config)
    read_seconds = time.perf_counter() - started
    encoded = encode_data(data, tokenizer)
    if key is not None:
        _store(cache, key, encoded)
    return replace(encoded, seconds=time.perf_counter() - started, read_seconds=read_seconds)


def _store(cache: CorpusCache, key: str, encoded: EncodedData, **extra: str) -> None:
    arrays = {"ids": encoded.corpus.ids, "offsets": encoded.corpus.offsets, "label_ids": encoded.label_ids}
    meta = {"label_names": encoded.label_names, "skipped": encoded.skipped,
            "skipped_examples": encoded.skipped_examples, **extra}
    cache.store(key, arrays, meta)
