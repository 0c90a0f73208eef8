import numpy as np

from seqclf.data.batching import length_bucketed_batches, sorted_batches
from seqclf.data.tensors import pad_batch
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


def test_sorted_batches_cover_all_in_length_order():
    lengths = np.array([4, 1, 3, 2, 5])
    batches = list(sorted_batches(lengths, 2))
    assert [lengths[b].tolist() for b in batches] == [[1, 2], [3, 4], [5]]
