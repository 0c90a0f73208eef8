"""Files read in pieces read exactly as read whole: every format and quoting, with piece boundaries inside
quoted CSV fields, inside multi-byte characters, a byte-order mark and CRLF pairs. Property tests draw the
files; the whole-file read (one piece larger than the file) is the reference, and for CSV Python's own
csv module reading the whole text too."""
from __future__ import annotations

import contextlib
import csv
import io

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seqclf.data import streams
from seqclf.data.inputs import iter_inputs
from seqclf.data.readers import read_dataset
from seqclf.data.settings import DataConfig
from seqclf.errors import DataError

PIECES = ["a", "b", " ", ",", "\t", '"', "\n", "\r", "\r\n", "é", "😀", "\u2028", "{", "}", ":", "__label__x ",
          "text", "label", '"text"', '{"text": "a b", "label": "x"}', "\\"]
FILES = {"csv": "t.csv", "tsv": "t.tsv", "jsonl": "t.jsonl", "fasttext": "t.txt"}


@contextlib.contextmanager
def pieces_of(size: int):
    saved, streams.CHUNK_BYTES = streams.CHUNK_BYTES, size
    try:
        yield
    finally:
        streams.CHUNK_BYTES = saved


def dataset_outcome(path, config: DataConfig, size: int):
    with pieces_of(size):
        try:
            data = read_dataset(path, config, require_labels=False)
        except DataError as exc:
            return "error", str(exc)
    return data.texts, data.labels, data.lines, [row.to_dict() for row in data.skipped], data.detected


def inputs_outcome(path, config: DataConfig, size: int):
    with pieces_of(size):
        try:
            return [item if isinstance(item, str) else item.to_dict() for item in iter_inputs(path, config)]
        except DataError as exc:
            return "error", str(exc)


contents = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
headers = st.sampled_from(["text,label\n", "text\tlabel\n", "label,text\r\n", "", "\ufefftext,label\n"])
WHOLE = 1 << 30


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=headers, body=contents, fmt=st.sampled_from(sorted(FILES)), quoting=st.sampled_from(["auto", "csv", "none"]),
       skip=st.booleans(), size=st.integers(1, 9), encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_a_file_read_in_pieces_reads_as_read_whole(tmp_path, header, body, fmt, quoting, skip, size, encoding):
    path = tmp_path / FILES[fmt]
    try:
        path.write_bytes((header + body).encode(encoding))
    except UnicodeEncodeError:  # cp1252 has no emoji: write what it can
        path.write_bytes((header + body).encode(encoding, errors="replace"))
    config = DataConfig(quoting=quoting, skip_bad_rows=skip, encoding=encoding)
    assert dataset_outcome(path, config, size) == dataset_outcome(path, config, WHOLE)
    assert inputs_outcome(path, config, size) == inputs_outcome(path, config, WHOLE)


fields = st.text(st.sampled_from(list('ab ,"\n\r\té😀\u2028')), min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(fields, st.sampled_from(["pos", "neg"])), min_size=1, max_size=8),
       terminator=st.sampled_from(["\n", "\r\n", "\r"]), size=st.integers(1, 7))
def test_quoted_csv_in_pieces_reads_as_the_csv_module_reads_it_whole(tmp_path, rows, terminator, size):
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator=terminator).writerows([("text", "label"), *rows])
    path = tmp_path / "q.csv"
    path.write_bytes(text.getvalue().encode("utf-8"))
    expected = list(csv.reader(io.StringIO(text.getvalue(), newline=""), strict=True))[1:]
    assume(expected == [list(row) for row in rows])  # the writer quotes only its own line end: "\n" with "\r" breaks
    with pieces_of(size):
        data = read_dataset(path, DataConfig())
    assert [[t, label] for t, label in zip(data.texts, data.labels)] == expected


def test_a_bad_byte_is_found_at_its_offset_and_line_whatever_the_pieces(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes("\ufefftext\tlabel\nfine\tpos\nbad \xff here\tneg\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    for size in (1, 2, 3, 5, WHOLE):
        outcome = dataset_outcome(path, DataConfig(), size)
        assert outcome == ("error", f"{path}:3: not valid UTF-8 at byte offset 27 (byte 0xff) (pass the file's "
                                    "encoding, e.g. --encoding cp1252 or --encoding utf-16, or re-save it as UTF-8)")


def test_a_file_of_cr_line_ends_is_refused_before_it_is_read_whole(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes(b"text\tlabel\r" + b"a text\tpos\r" * 100_000)
    progress = streams.ReadProgress(total_bytes=path.stat().st_size)
    with pieces_of(4096):
        try:
            read_dataset(path, DataConfig(), progress=progress)
        except DataError as exc:
            assert "classic Mac OS" in str(exc)
    assert progress.bytes_read == 4096  # the first piece told
