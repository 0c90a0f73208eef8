"""A training file encoded in two streamed passes (word counts spilled to disk, ids appended to the cache
entry chunk by chunk) gives what the in-memory build gives: the same vocabulary, ids, labels and max_len."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from seqclf.data.settings import DataConfig
from seqclf.errors import SeqclfWarning
from seqclf.text import streamed_corpus, word_counts
from seqclf.text.cache import CorpusCache
from seqclf.text.encoded import encode_training_file
from seqclf.text.tokenizer import TokenizerConfig

WORDS = ["good", "bad", "film", "plot", "Café", "naïve", "\u2063", "<pad>", "<unk>", "!!", "x1", "très", "ok"]


def corpus_file(path, seed: int):
    rng = random.Random(seed)
    lines = ["text\tlabel"]
    for i in range(500):
        words = rng.choices(WORDS, k=rng.randint(0, 14)) or ["..."]
        lines.append(" ".join(words) + "\t" + rng.choice(["pos", "neg", " odd "]))
        if i % 97 == 5:
            lines.append("a row with\ttoo\tmany fields")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def label_sets_file(path, seed: int):
    """JSONL whose labels are one class or, from line 2 on, sometimes a list of them: a multi-label file."""
    rng = random.Random(seed)
    records = [{"text": " ".join(rng.choices(WORDS, k=rng.randint(1, 9))),
                "label": rng.sample(["pos", "neg", "odd"], rng.randint(1, 2)) if i else "pos"} for i in range(300)]
    path.write_text("\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n", encoding="utf-8")
    return path


def built(path, data: DataConfig, tokenizer: TokenizerConfig, cache: CorpusCache, streamed: bool, monkeypatch):
    monkeypatch.setattr(streamed_corpus, "STREAM_ABOVE_BYTES", -1 if streamed else 1 << 40)
    monkeypatch.setattr(streamed_corpus, "CHUNK_TEXTS", 37)  # many chunks: boundaries everywhere
    monkeypatch.setattr(word_counts, "SPILL_WORDS", 3)  # many spills: every count merged from disk
    return encode_training_file(path, data, tokenizer, cache)


def same(a, b) -> None:
    (tokenizer_a, data_a), (tokenizer_b, data_b) = a, b
    assert tokenizer_a.to_json() == tokenizer_b.to_json() and tokenizer_a.max_len == tokenizer_b.max_len
    for name in ("ids", "offsets"):
        assert np.array_equal(getattr(data_a.corpus, name), getattr(data_b.corpus, name)), name
    assert np.array_equal(data_a.label_ids, data_b.label_ids) and data_a.label_names == data_b.label_names
    assert np.array_equal(data_a.label_bounds, data_b.label_bounds)
    assert (data_a.task, data_a.detected, data_a.skipped) == (data_b.task, data_b.detected, data_b.skipped)


@pytest.mark.parametrize("settings", [{}, {"min_freq": 3}, {"max_size": 5}, {"lowercase": False, "max_len": 6}])
def test_streamed_passes_build_what_the_in_memory_build_builds(tmp_path, monkeypatch, settings):
    path = corpus_file(tmp_path / "train.tsv", seed=len(settings))
    data, tokenizer = DataConfig(skip_bad_rows=True), TokenizerConfig(**settings)
    with pytest.warns(SeqclfWarning, match="written with spaces") as in_memory_said:
        in_memory = built(path, data, tokenizer, CorpusCache(None), False, monkeypatch)
    with pytest.warns(SeqclfWarning, match="written with spaces") as streamed_said:
        streamed = built(path, data, tokenizer, CorpusCache(None), True, monkeypatch)
    assert [str(w.message) for w in streamed_said] == [str(w.message) for w in in_memory_said]
    same(streamed, in_memory)
    assert len(in_memory[1].skipped) == 6 and in_memory[1].corpus.max_len == in_memory[0].max_len


def test_a_streamed_build_goes_into_the_cache_and_is_read_back(tmp_path, monkeypatch):
    path = label_sets_file(tmp_path / "train.jsonl", seed=1)
    data, tokenizer = DataConfig(skip_bad_rows=True), TokenizerConfig()
    cache = CorpusCache(tmp_path / "cache")
    streamed = built(path, data, tokenizer, cache, True, monkeypatch)
    assert streamed[1].task.label_sets and streamed[1].detected.startswith(f"{path}:2 gives a list of")
    assert not streamed[1].from_cache and len(list((tmp_path / "cache").iterdir())) == 1  # no work files left
    again = built(path, data, tokenizer, cache, True, monkeypatch)
    assert again[1].from_cache
    same(again, streamed)
    same(streamed, built(path, data, tokenizer, CorpusCache(None), False, monkeypatch))


def test_word_counts_spilled_to_disk_are_exact(tmp_path):
    rng = random.Random(3)
    words = [rng.choice(WORDS + [f"w{i}" for i in range(50)]) for _ in range(5000)]
    counts = word_counts.WordCounts(tmp_path / "counts", spill_words=10)
    for start in range(0, len(words), 100):
        counts.add(iter(words[start : start + 100]))
    assert counts.spills > 10 and dict(counts.totals()) == dict(word_counts.Counter(words))
    order = counts.vocabulary_order(min_freq=2, size=20)
    expected = sorted((w for w, c in word_counts.Counter(words).items() if c >= 2),
                      key=lambda w: (-words.count(w), w))[:20]
    assert order == expected
