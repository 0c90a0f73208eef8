"""EncodedCorpus: ragged sequences in flat arrays, read cut to max_len."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from seqclf.ids import EncodedCorpus, ranges

SEQUENCES = st.lists(st.lists(st.integers(0, 99), min_size=1, max_size=8), min_size=1, max_size=10)


def as_lists(corpus: EncodedCorpus) -> list[list[int]]:
    return [corpus.sequence(i).tolist() for i in range(len(corpus))]


@given(parts=st.lists(st.tuples(SEQUENCES, st.one_of(st.none(), st.integers(1, 5))), min_size=1, max_size=4))
def test_concatenating_truncated_parts_keeps_what_each_reads(parts):
    corpora = [EncodedCorpus.from_sequences(s) if cut is None else EncodedCorpus.from_sequences(s).truncated(cut)
               for s, cut in parts]
    assert as_lists(EncodedCorpus.concatenate(corpora)) == [seq for c in corpora for seq in as_lists(c)]


@given(sequences=SEQUENCES, cut=st.integers(1, 5), data=st.data())
def test_select_copies_the_chosen_sequences_as_read(sequences, cut, data):
    corpus = EncodedCorpus.from_sequences(sequences).truncated(cut)
    chosen = data.draw(st.lists(st.integers(0, len(sequences) - 1), max_size=12))
    selected = corpus.select(np.array(chosen, dtype=np.int64))
    assert as_lists(selected) == [sequences[i][:cut] for i in chosen]


def test_ranges_lists_every_position_of_every_range():
    assert ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]
    assert ranges(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []
