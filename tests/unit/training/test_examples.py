"""The hold-out split and the data fingerprint, as int32 indices keep them: the split and the fingerprint a
resume checks are those int64 indices gave."""
import hashlib
import json

import numpy as np
import torch

from seqclf.ids import EncodedCorpus
from seqclf.text.encoded import EncodedData
from seqclf.training import checkpoint
from seqclf.training.checkpoint import training_fingerprint
from seqclf.training.examples import holdout, split_examples
from seqclf.training.settings import TrainConfig


class Vocabulary:
    def fingerprint(self) -> str:
        return "vocabulary"


def test_the_split_is_the_seeded_permutation_in_int32():
    train, valid = holdout(1000, None, TrainConfig(valid_fraction=0.1, seed=7))
    order = np.random.default_rng(7).permutation(1000)
    assert train.dtype == np.int32 and np.array_equal(train, order[100:]) and np.array_equal(valid, order[:100])


def test_the_fingerprint_is_that_of_the_whole_arrays_whatever_the_pieces_and_index_dtype(monkeypatch):
    rng = np.random.default_rng(0)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(1, 9, size=300))])
    data = EncodedData(EncodedCorpus(rng.integers(0, 50, size=offsets[-1]).astype(np.int32), offsets),
                       rng.integers(0, 2, size=300).astype(np.int32), ["a", "b"], "x")
    train, valid = holdout(300, None, TrainConfig(valid_fraction=0.2, seed=1))
    expected = hashlib.sha256(b"vocabulary")  # as the arrays' whole bytes, indices as int64, gave it before
    expected.update(json.dumps([["a", "b"], None]).encode())
    for array in (data.corpus.ids, offsets, data.label_ids, train.astype(np.int64), valid.astype(np.int64)):
        expected.update(array.tobytes())
    monkeypatch.setattr(checkpoint, "HASHED_PIECE", 7)  # many pieces, one cut inside each array
    assert training_fingerprint(Vocabulary(), data, train, None, valid) == expected.hexdigest()


def test_targets_are_kept_in_two_bytes_and_read_as_the_loss_needs_them():
    rng = np.random.default_rng(0)
    offsets = np.arange(0, 201, dtype=np.int64)
    data = EncodedData(EncodedCorpus(rng.integers(2, 50, size=200).astype(np.int32), offsets),
                       rng.integers(0, 3, size=200).astype(np.int32), ["a", "b", "c"], "x")
    split = split_examples(Vocabulary(), data, 0.25, ["c", "b", "a"], TrainConfig(seed=3))
    assert split.train.targets.dtype == torch.int16 and len(split.train.targets) == 150
    positions = np.array([4, 0, 9])
    batch = split.train.loss_targets(positions)
    expected = 2 - data.label_ids[split.train.indices[positions]]  # "a" is class 2 of the model's order
    assert batch.dtype == torch.int64 and batch.tolist() == expected.tolist()
    assert split.valid.loss_targets(slice(None)).tolist() == (2 - data.label_ids[split.valid.indices]).tolist()
