import csv
import warnings

import numpy as np
import pytest

from seqclf.config import Config
from seqclf.text.cache import CorpusCache
from seqclf.data.demo import demo_corpus
from seqclf.text.encoded import encode_file, encode_training_file
from seqclf.errors import SeqclfWarning


@pytest.fixture
def data_file(tmp_path):
    texts, labels = demo_corpus(200, seed=5)
    path = tmp_path / "train.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([("text", "label"), *zip(texts, labels)])
    return path


CONFIG = Config.from_dict({"max_len": 8})


def sections(config: Config):
    return config.data, config.tokenizer


def test_second_run_loads_memory_mapped_arrays(data_file, tmp_path):
    cache = CorpusCache(tmp_path / "cache")
    tokenizer, first = encode_training_file(data_file, *sections(CONFIG), cache)
    again_tokenizer, second = encode_training_file(data_file, *sections(CONFIG), cache)
    assert not first.from_cache and second.from_cache
    assert isinstance(second.corpus.ids, np.memmap)
    assert np.array_equal(first.corpus.ids, second.corpus.ids)
    assert np.array_equal(first.corpus.lengths, second.corpus.lengths) and second.corpus.lengths.max() == 8
    assert np.array_equal(first.label_ids, second.label_ids) and first.label_names == second.label_names
    assert again_tokenizer.to_json() == tokenizer.to_json() and again_tokenizer.max_len == tokenizer.max_len
    valid = encode_file(data_file, CONFIG.data, tokenizer, cache)
    assert encode_file(data_file, CONFIG.data, tokenizer, cache).from_cache and not valid.from_cache


def test_changed_file_or_settings_miss_the_cache(data_file, tmp_path):
    cache = CorpusCache(tmp_path / "cache")
    encode_training_file(data_file, *sections(CONFIG), cache)
    assert not encode_training_file(data_file, *sections(CONFIG.updated({"min_freq": 2})), cache)[1].from_cache
    assert not encode_training_file(data_file, *sections(CONFIG.updated({"lowercase": False})), cache)[1].from_cache
    assert encode_training_file(data_file, *sections(CONFIG.updated({"max_len": 5})), cache)[1].from_cache  # a view
    with open(data_file, "a") as handle:
        handle.write("one more line,positive\n")
    changed = encode_training_file(data_file, *sections(CONFIG), cache)[1]
    assert not changed.from_cache and len(changed) == 201


def _damage_ids(entry):
    ids = np.load(entry / "ids.npy")
    ids[3] = 10**6  # outside any vocabulary here
    np.save(entry / "ids.npy", ids)


def _damage_offsets(entry):
    offsets = np.load(entry / "offsets.npy")
    offsets[5] = offsets[7]  # out of order
    np.save(entry / "offsets.npy", offsets)


def _damage_labels(entry):
    np.save(entry / "label_ids.npy", np.full(200, 9, dtype=np.int32))


DAMAGE = {
    "garbage offsets": lambda entry: (entry / "offsets.npy").write_bytes(b"garbage"),
    "ids out of range": _damage_ids,
    "offsets out of order": _damage_offsets,
    "label indices out of range": _damage_labels,
    "ids of another type": lambda entry: np.save(entry / "ids.npy", np.load(entry / "ids.npy").astype(np.int64)),
    "truncated meta": lambda entry: (entry / "meta.json").write_text('{"label_names": '),
    "meta without a key": lambda entry: (entry / "meta.json").write_text('{"label_names": []}'),
    "damaged tokenizer": lambda entry: (entry / "meta.json").write_text(
        (entry / "meta.json").read_text().replace('"tokenizer": "{', '"tokenizer": "{{')),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_entry_of_any_kind_is_a_warning_and_is_rebuilt(data_file, tmp_path, damage):
    cache = CorpusCache(tmp_path / "cache")
    _, first = encode_training_file(data_file, *sections(CONFIG), cache)
    (entry,) = (tmp_path / "cache").iterdir()
    DAMAGE[damage](entry)
    with pytest.warns(SeqclfWarning, match="cached encoding of .*train.csv.* is damaged .*encoding the file again"):
        _, rebuilt = encode_training_file(data_file, *sections(CONFIG), cache)
    assert not rebuilt.from_cache and np.array_equal(rebuilt.corpus.ids, first.corpus.ids)
    assert encode_training_file(data_file, *sections(CONFIG), cache)[1].from_cache


def test_damaged_validation_entry_is_rebuilt(data_file, tmp_path):
    cache = CorpusCache(tmp_path / "cache")
    tokenizer, _ = encode_training_file(data_file, *sections(CONFIG), cache)
    encode_file(data_file, CONFIG.data, tokenizer, cache)
    entries = sorted((tmp_path / "cache").iterdir(), key=lambda p: p.stat().st_mtime)
    _damage_ids(entries[-1])
    with pytest.warns(SeqclfWarning, match="token ids outside the vocabulary"):
        assert not encode_file(data_file, CONFIG.data, tokenizer, cache).from_cache


def test_unwritable_cache_warns_and_goes_on(data_file, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.warns(SeqclfWarning, match="could not write the corpus cache .*--no-cache"):
        _, data = encode_training_file(data_file, *sections(CONFIG), CorpusCache(blocker / "cache"))
    assert len(data) == 200


def test_disabled_cache_writes_nothing(data_file, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode_training_file(data_file, *sections(CONFIG), CorpusCache(None))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv"]


def test_label_sets_come_back_from_the_cache_with_where_they_were_seen(tmp_path):
    import json
    import shutil

    first_path = tmp_path / "a" / "train.jsonl"
    first_path.parent.mkdir()
    first_path.write_text("".join(json.dumps({"text": f"text {i}", "label": ["x", "y"][: 1 + i % 2]}) + "\n"
                                  for i in range(20)))
    other_path = tmp_path / "b.jsonl"
    shutil.copy(first_path, other_path)  # the same content under another name: the same cache entry
    cache = CorpusCache(tmp_path / "cache")
    _, first = encode_training_file(first_path, *sections(CONFIG), cache)
    _, second = encode_training_file(other_path, *sections(CONFIG), cache)
    assert second.from_cache and second.task.label_sets
    assert np.array_equal(first.label_offsets, second.label_offsets) and np.array_equal(first.label_ids, second.label_ids)
    assert first.detected == f"{first_path}:1 gives a list of 1 label"
    assert second.detected == f"{other_path}:1 gives a list of 1 label"
