"""EncodedCorpus: ragged sequences in flat arrays, read cut to max_len."""
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqclf.ids import EncodedCorpus, index_dtype, ranges, release_pages

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


def _resident_file_kb() -> int:
    """This process's resident pages of mapped files (RssFile, kB)."""
    status = open("/proc/self/status").read()
    return int(status.split("RssFile:")[1].split()[0])


def _resident_kb_of_mapping(name: str) -> int:
    """Resident kB of this process's mappings of files whose path contains `name` (/proc/self/smaps)."""
    total, counting = 0, False
    for line in open("/proc/self/smaps"):
        fields = line.split()
        if "-" in fields[0] and len(fields[0]) > 8 and not fields[0].endswith(":"):
            counting = len(fields) >= 6 and name in fields[5]
        elif counting and fields[0] == "Rss:":
            total += int(fields[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's /proc")
def test_released_pages_of_a_memory_mapped_corpus_leave_the_process(tmp_path):
    ids = np.arange(16 << 20, dtype=np.int32)  # 64 MB
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "offsets.npy", np.array([0, len(ids)], dtype=np.int64))
    corpus = EncodedCorpus(np.load(tmp_path / "ids.npy", mmap_mode="r"),
                           np.load(tmp_path / "offsets.npy", mmap_mode="r")).truncated(10)
    before = _resident_file_kb()
    assert int(corpus.ids[::1024].sum()) == int(ids[::1024].sum())  # touches every page
    touched = _resident_file_kb()
    corpus.release_pages()  # through the truncated view, down to the mapping
    released = _resident_file_kb()
    assert touched - before > 50_000 and touched - released > 50_000, (before, touched, released)
    assert int(corpus.ids[-1]) == len(ids) - 1  # still readable: read again from the page cache
    release_pages(ids)  # an array in memory is left alone
    assert ids[5] == 5


def test_index_arrays_are_int32_until_they_cannot_be():
    assert index_dtype(10) == np.int32 and index_dtype(2**31 - 1) == np.int32 and index_dtype(2**31 + 5) == np.int64


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's /proc")
def test_a_memory_mapped_corpus_reads_its_texts_from_the_file_not_the_map(tmp_path):
    from seqclf.text.batching import pad_ids

    rng = np.random.default_rng(0)
    offsets = np.concatenate([[0], np.cumsum(rng.integers(1, 30, size=1_000_000))]).astype(np.int64)
    ids = rng.integers(0, 1000, size=int(offsets[-1]), dtype=np.int32)  # about 60 MB
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "offsets.npy", offsets)
    mapped = EncodedCorpus.mapped(np.load(tmp_path / "ids.npy", mmap_mode="r"),
                                  np.load(tmp_path / "offsets.npy", mmap_mode="r")).truncated(20)
    (tmp_path / "ids.npy").unlink()  # as with --no-cache: the file was opened while it had a name
    in_memory = EncodedCorpus(ids, offsets).truncated(20)
    mapped.release_pages()
    for _ in range(20):  # 1,280 texts at random places
        chosen = rng.integers(0, len(offsets) - 1, size=64)
        for got, expected in zip(pad_ids(mapped, chosen), pad_ids(in_memory, chosen)):
            assert np.array_equal(got, expected) and got.dtype == np.int64
    assert _resident_kb_of_mapping("ids.npy") < 1_000  # through the map: over 50 MB of it
    assert mapped.lengths_at(chosen).tolist() == in_memory.lengths_at(chosen).tolist()
    assert _resident_kb_of_mapping("offsets.npy") < 100  # their bounds too: all 8 MB of them through the map
    picked = np.array([5, 0, 999_999])
    assert as_lists(mapped.select(picked)) == as_lists(in_memory.select(picked))


def test_concatenating_a_memory_mapped_corpus_reads_it_as_cut(tmp_path):
    sequences = [[3, 4, 5, 6], [7], [8, 9, 10]]
    whole = EncodedCorpus.from_sequences(sequences)
    np.save(tmp_path / "ids.npy", whole.ids)
    np.save(tmp_path / "offsets.npy", whole.offsets)
    mapped = EncodedCorpus.mapped(np.load(tmp_path / "ids.npy", mmap_mode="r"),
                                  np.load(tmp_path / "offsets.npy", mmap_mode="r"))
    assert mapped.file is not None and EncodedCorpus(whole.ids, whole.offsets).file is None
    joined = EncodedCorpus.concatenate([mapped.truncated(2), mapped])
    assert as_lists(joined) == [[3, 4], [7], [8, 9], *sequences]


@given(sequences=SEQUENCES, cut=st.one_of(st.none(), st.integers(1, 5)), piece=st.integers(1, 4))
def test_lengths_read_a_piece_at_a_time_are_the_whole_corpus_lengths(sequences, cut, piece):
    corpus = EncodedCorpus.from_sequences(sequences)
    corpus = corpus if cut is None else corpus.truncated(cut)
    whole = np.array([len(s) for s in sequences])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("seqclf.ids.LENGTHS_PIECE", piece)
        assert corpus.lengths.tolist() == [min(n, cut or n) for n in whole]
        assert np.concatenate(list(corpus.length_pieces(cut=False))).tolist() == whole.tolist()
        assert corpus.length_histogram().tolist() == np.bincount(whole).tolist()  # before truncation
