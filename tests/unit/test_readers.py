import json

import pytest

from seqclf.config import DataConfig
from seqclf.data.readers import dataset_from_lists, read_dataset, read_lines
from seqclf.errors import DataError


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_tsv_with_default_columns(tmp_path):
    path = write(tmp_path, "d.tsv", "label\ttext\npos\tgood film\nneg\tbad film\n")
    data = read_dataset(path)
    assert data.texts == ["good film", "bad film"]
    assert data.labels == ["pos", "neg"]


def test_csv_with_named_columns_quotes_and_embedded_newline(tmp_path):
    path = write(tmp_path, "d.csv", 'id,review,stars\n1,"great, really great",5\n2,"two\nlines",1\n')
    data = read_dataset(path, DataConfig(text_column="review", label_column="stars"))
    assert data.texts == ["great, really great", "two\nlines"]
    assert data.labels == ["5", "1"]


def test_jsonl_keys_and_integer_labels(tmp_path):
    rows = [{"text": "a b", "label": 1}, {"text": "c", "label": "x"}]
    path = write(tmp_path, "d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    data = read_dataset(path)
    assert data.labels == ["1", "x"]


def test_fasttext_format(tmp_path):
    path = write(tmp_path, "d.txt", "__label__pos I liked it\n__label__neg  awful\n")
    data = read_dataset(path)
    assert data.texts == ["I liked it", "awful"]
    assert data.labels == ["pos", "neg"]


def test_format_flag_overrides_extension(tmp_path):
    path = write(tmp_path, "d.data", "text,label\nhi,a\n")
    assert read_dataset(path, DataConfig(format="csv")).labels == ["a"]
    with pytest.raises(DataError, match=r"d\.data: cannot tell the format .*--format"):
        read_dataset(path)


def test_utf8_bom_is_stripped(tmp_path):
    path = write(tmp_path, "d.csv", "\ufefftext,label\nhi,a\n")
    assert read_dataset(path).texts == ["hi"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("e.csv", "", r"e\.csv: file is empty"),
        ("e.csv", "text,label\n", r"e\.csv: no usable rows"),
        ("e.csv", "body,label\nhi,a\n", r"e\.csv:1: field 'text': no column 'text' .*--text-column"),
        ("e.csv", "text,label\nhi,a\n,b\n", r"e\.csv:3: field 'text': empty text"),
        ("e.csv", "text,label\nhi,a\nho,b,c\n", r"e\.csv:3: 3 fields, the header has 2"),
        ("e.csv", "text,label\nhi,\n", r"e\.csv:2: field 'label': empty label"),
        ("e.jsonl", '{"text": "a", "label": "x"}\n{"text": "b",\n', r"e\.jsonl:2: invalid JSON"),
        ("e.jsonl", '["a", "x"]\n', r"e\.jsonl:1: expected a JSON object"),
        ("e.jsonl", '{"label": "x"}\n', r"e\.jsonl:1: field 'text': missing key"),
        ("e.jsonl", '{"text": 3, "label": "x"}\n', r"e\.jsonl:1: field 'text': text is int"),
        ("e.jsonl", '{"text": "a", "label": [1]}\n', r"e\.jsonl:1: field 'label': label is list"),
        ("e.txt", "no label here\n", r"e\.txt:1: field 'label': no __label__NAME label"),
        ("e.txt", "__label__a __label__b text\n", r"e\.txt:1: field 'label': 2 labels"),
        ("e.txt", "__label__a\n", r"e\.txt:1: field 'text': empty text"),
    ],
)
def test_bad_input_names_file_line_and_field(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(DataError, match=message):
        read_dataset(path)


def test_non_utf8_reports_the_line(tmp_path):
    path = write(tmp_path, "latin.csv", b"text,label\nok,a\ncaf\xe9,b\n")
    with pytest.raises(DataError, match=r"latin\.csv:3: not valid UTF-8 \(byte 0xe9\).*UTF-8"):
        read_dataset(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_dataset(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_dataset(tmp_path, DataConfig(format="csv"))


def test_skip_bad_rows_counts_what_it_skips(tmp_path):
    path = write(tmp_path, "d.csv", "text,label\nhi,a\n,b\nx,y,z\nho,b\n")
    data = read_dataset(path, DataConfig(skip_bad_rows=True))
    assert data.texts == ["hi", "ho"]
    assert data.skipped == 2
    assert data.skipped_examples[0].startswith("line 3: empty text")


def test_skip_bad_rows_still_fails_when_nothing_is_left(tmp_path):
    path = write(tmp_path, "d.csv", "text,label\n,b\n")
    with pytest.raises(DataError, match=r"no usable rows \(1 bad rows skipped\)"):
        read_dataset(path, DataConfig(skip_bad_rows=True))


def test_unlabeled_read_and_plain_lines(tmp_path):
    path = write(tmp_path, "d.csv", "text\nhello\n")
    assert read_dataset(path, require_labels=False).labels is None
    with pytest.raises(DataError, match="no column 'label'"):
        read_dataset(path)
    lines = write(tmp_path, "t.txt", "one\n\n two \n")
    assert read_lines(lines) == ["one", " two "]


def test_lists_are_checked_like_files():
    assert dataset_from_lists(["a", "b"], [0, "x"]).labels == ["0", "x"]
    with pytest.raises(DataError, match="2 texts but 1 labels"):
        dataset_from_lists(["a", "b"], ["x"])
    with pytest.raises(DataError, match="item 1 is an empty text"):
        dataset_from_lists(["a", "  "], ["x", "y"])
    with pytest.raises(DataError, match="item 0 is int, not str"):
        dataset_from_lists([3], ["x"])
    with pytest.raises(DataError, match="not one string"):
        dataset_from_lists("abc", None)
    with pytest.raises(DataError, match="not a class name"):
        dataset_from_lists(["a"], [None])
