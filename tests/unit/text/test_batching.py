import tracemalloc

import numpy as np
import pytest

from seqclf import ids as ids_module

from seqclf.text.batching import Chunking, length_bucketed_batches, sample_windows, sorted_batches
from seqclf.text.tensors import pad_batch
from seqclf.ids import EncodedCorpus

SEQUENCES = [[5, 6, 7], [8], [9, 10, 11, 12, 13], [14, 15]]


def test_flat_storage_and_views():
    corpus = EncodedCorpus.from_sequences(SEQUENCES)
    assert corpus.ids.dtype == np.int32 and corpus.offsets.tolist() == [0, 3, 4, 9, 11]
    assert corpus.lengths.tolist() == [3, 1, 5, 2]
    assert corpus.sequence(2).tolist() == [9, 10, 11, 12, 13]
    cut = corpus.truncated(2)
    assert [cut.sequence(i).tolist() for i in range(4)] == [[5, 6], [8], [9, 10], [14, 15]]
    assert cut.ids is corpus.ids and cut.lengths.tolist() == [2, 1, 2, 2]  # a view, not a copy
    joined = EncodedCorpus.concatenate([corpus, EncodedCorpus.from_sequences([[3, 4]])])
    assert [joined.sequence(i).tolist() for i in range(5)] == SEQUENCES + [[3, 4]]


def test_pad_batch_reads_truncated_sequences():
    corpus = EncodedCorpus.from_sequences(SEQUENCES).truncated(2)
    ids, lengths = pad_batch(corpus, np.array([2, 1]))
    assert ids.tolist() == [[9, 10], [8, 0]] and lengths.tolist() == [2, 1]


def test_pad_batch_pads_to_the_longest_or_a_given_length():
    corpus = EncodedCorpus.from_sequences(SEQUENCES)
    ids, lengths = pad_batch(corpus, np.array([1, 0]))
    assert ids.tolist() == [[8, 0, 0], [5, 6, 7]] and lengths.tolist() == [1, 3]
    ids, lengths = pad_batch(corpus, np.array([3]), length=4)
    assert ids.tolist() == [[14, 15, 0, 0]] and lengths.tolist() == [2]


def test_bucketed_batches_visit_every_example_once_with_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, size=1000)
    batches = list(length_bucketed_batches(lengths, 32, np.random.default_rng(1)))
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 5  # random batches would span most of 1..59
    again = list(length_bucketed_batches(lengths, 32, np.random.default_rng(2)))
    assert [b.tolist() for b in again] != [b.tolist() for b in batches]  # reshuffled


def test_bucketed_batches_are_the_shuffled_pools_sorted_and_cut_then_shuffled():
    # the order runs and checkpoints of earlier versions drew: a resumed run reads the same batches
    lengths = np.random.default_rng(3).integers(1, 60, size=7001)
    expected_rng, rng = np.random.default_rng(4), np.random.default_rng(4)
    order, expected = expected_rng.permutation(len(lengths)), []
    for start in range(0, len(order), 32 * 50):
        pool = order[start : start + 32 * 50]
        pool = pool[np.argsort(lengths[pool], kind="stable")]
        expected += [pool[i : i + 32] for i in range(0, len(pool), 32)]
    expected = [expected[b] for b in expected_rng.permutation(len(expected))]
    found = list(length_bucketed_batches(lengths, 32, rng))
    assert len(found) == len(expected) and all(np.array_equal(a, b) for a, b in zip(found, expected))


def test_bucketed_batches_hold_about_four_bytes_an_example():
    lengths = np.random.default_rng(0).integers(1, 60, size=1_000_000).astype(np.int32)
    tracemalloc.start()
    for _ in length_bucketed_batches(lengths, 64, np.random.default_rng(1)):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5.5e6  # the int32 order (4 MB), sorted in place; copied batches in a list took 10 MB


@pytest.mark.parametrize("max_len", [None, 3])
def test_lengths_at_any_indices_are_the_offsets_differences_cut_to_max_len(monkeypatch, max_len):
    monkeypatch.setattr(ids_module, "LENGTHS_PIECE", 7)  # many pieces
    sequences = [[1] * n for n in np.random.default_rng(0).integers(0, 9, size=50)]
    corpus = EncodedCorpus.from_sequences(sequences)
    corpus = corpus if max_len is None else corpus.truncated(max_len)
    whole = np.array([len(s) if max_len is None else min(len(s), max_len) for s in sequences])
    indices = np.random.default_rng(1).integers(0, 50, size=33).astype(np.int32)
    assert corpus.lengths.dtype == np.int32 and corpus.lengths.tolist() == whole.tolist()
    assert corpus.lengths_at(indices).tolist() == whole[indices].tolist()


def test_sorted_batches_cover_all_in_length_order():
    lengths = np.array([4, 1, 3, 2, 5])
    batches = list(sorted_batches(lengths, 2))
    assert [lengths[b].tolist() for b in batches] == [[1, 2], [3, 4], [5]]


def test_windows_cover_every_id_and_the_last_ends_at_the_text_end():
    corpus = EncodedCorpus.from_sequences([list(range(2, 5)), list(range(10, 33)), list(range(40, 50))]).truncated(10)
    pieces, owners, starts = Chunking(max_len=10, stride=4, pooling="mean").windows(corpus)
    assert owners.tolist() == [0, 1, 1, 1, 1, 1, 2] and starts.tolist() == [0, 0, 4, 8, 12, 13, 0]
    by_text = {}
    for window, owner in enumerate(owners):
        assert len(pieces.sequence(window)) <= 10
        by_text.setdefault(int(owner), set()).update(pieces.sequence(window).tolist())
    assert [sorted(by_text[i]) for i in range(3)] == [list(range(2, 5)), list(range(10, 33)), list(range(40, 50))]
    assert pieces.sequence(5).tolist() == list(range(23, 33))  # the last window ends at the end
    only_some, owners, _ = Chunking(10, 4, "mean").windows(corpus, np.array([2, 0]))
    assert owners.tolist() == [0, 1] and only_some.sequence(0).tolist() == list(range(40, 50))


def test_sampled_windows_lie_inside_their_texts():
    corpus = EncodedCorpus.from_sequences([list(range(100, 130)), [5, 6]]).truncated(8)
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(50):
        sampled = sample_windows(corpus, np.array([0, 1]), 8, rng)
        window = sampled.sequence(0).tolist()
        assert len(window) == 8 and window == list(range(window[0], window[0] + 8)) and 100 <= window[0] <= 122
        assert sampled.sequence(1).tolist() == [5, 6]
        starts.add(window[0])
    assert len(starts) > 10  # not always the same window
