"""The hold-out split and the data fingerprint, as int32 indices keep them: the split and the fingerprint a
resume checks are those int64 indices gave."""
import hashlib
import json

import numpy as np

from seqclf.ids import EncodedCorpus
from seqclf.text.encoded import EncodedData
from seqclf.training import checkpoint
from seqclf.training.checkpoint import training_fingerprint
from seqclf.training.examples import holdout
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
