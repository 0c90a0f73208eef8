import json

import pytest

from seqclf.data.settings import DataConfig
from seqclf.data.inputs import read_inputs
from seqclf.data.readers import BadRow, dataset_from_lists, read_dataset
from seqclf.errors import DataError, SeqclfWarning


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
    with pytest.raises(DataError, match=r"d\.data: cannot tell the format .*--input-format"):
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
        ("e.tsv", "label\ttext\ttext\na\tb\tc\n", r"e\.tsv:1: column names appear more than once .*'text'"),
        ("e.csv", "text,label\nhi,\n", r"e\.csv:2: field 'label': empty label"),
        ("e.jsonl", '{"text": "a", "label": "x"}\n{"text": "b",\n', r"e\.jsonl:2: invalid JSON"),
        ("e.jsonl", '["a", "x"]\n', r"e\.jsonl:1: expected a JSON object"),
        ("e.jsonl", '{"label": "x"}\n', r"e\.jsonl:1: field 'text': missing key"),
        ("e.jsonl", '{"text": 3, "label": "x"}\n', r"e\.jsonl:1: field 'text': text is int"),
        ("e.jsonl", '{"text": "a", "label": {"x": 1}}\n', r"e\.jsonl:1: field 'label': label is dict"),
        ("e.txt", "no label here\n", r"e\.txt:1: field 'label': no __label__NAME label"),
        ("e.txt", "__label__a\n", r"e\.txt:1: field 'text': empty text"),
    ],
)
def test_bad_input_names_file_line_and_field(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(DataError, match=message):
        read_dataset(path)


def test_non_utf8_reports_the_line(tmp_path):
    path = write(tmp_path, "latin.csv", b"text,label\nok,a\ncaf\xe9,b\n")
    with pytest.raises(DataError, match=r"latin\.csv:3: not valid UTF-8 at byte offset 19 \(byte 0xe9\).*--encoding"):
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
    assert [(row.line, row.problem, row.raw) for row in data.skipped] == [(3, "empty text", ",b"),
                                                                          (4, "3 fields, the header has 2", "x,y,z")]


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
    one, blank, two = read_inputs(lines)
    assert (one, two) == ("one", " two ") and isinstance(blank, BadRow) and blank.line == 2


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


# -- dialects: quoting, delimiters, encodings -----------------------------------------------------


def test_tsv_quotation_marks_are_text_by_default(tmp_path):
    path = write(tmp_path, "reviews.tsv", 'label\ttext\npositive\t" the title " is a perfect family film\n'
                                          'negative\tit\'s "fine"\n')
    assert read_dataset(path).texts == ['" the title " is a perfect family film', 'it\'s "fine"']


def test_tsv_with_csv_quoting_names_the_quoting_and_the_other_choice(tmp_path):
    path = write(tmp_path, "reviews.tsv", 'label\ttext\npositive\t" the title " is a perfect family film\n')
    with pytest.raises(DataError, match=r"reviews\.tsv:2: malformed row: .*--quoting csv.*\(pass --quoting none"):
        read_dataset(path, DataConfig(quoting="csv"))
    quoted = write(tmp_path, "quoted.tsv", 'label\ttext\npositive\t"a\tb"\n')
    assert read_dataset(quoted, DataConfig(quoting="csv")).texts == ["a\tb"]
    with pytest.raises(DataError, match=r"quoted\.tsv:2: 3 fields, the header has 2 .*--quoting csv"):
        read_dataset(quoted)


def test_csv_keeps_rfc4180_quoting_unless_told(tmp_path):
    path = write(tmp_path, "d.csv", 'label,text\npos,"a, b"\nneg,"say ""hi"""\n')
    assert read_dataset(path).texts == ["a, b", 'say "hi"']
    plain = write(tmp_path, "plain.csv", 'label,text\npos,"quoted" then more\n')
    assert read_dataset(plain, DataConfig(quoting="none")).texts == ['"quoted" then more']


def test_delimiter_setting_and_the_hint_that_finds_it(tmp_path):
    path = write(tmp_path, "excel.csv", "label;text\npos;good, really\nneg;bad\n")
    with pytest.raises(DataError, match=r"excel\.csv:1: .*no column 'text'.*separated by ';': pass --delimiter ';'"):
        read_dataset(path)
    assert read_dataset(path, DataConfig(delimiter=";")).texts == ["good, really", "bad"]
    from seqclf.config import Config
    assert Config().updated({"delimiter": "\\t"}).data.delimiter == "\t"
    assert Config().updated({"delimiter": "tab"}).data.delimiter == "\t"
    from seqclf.errors import ConfigError
    with pytest.raises(ConfigError, match="field 'delimiter'"):
        Config().updated({"delimiter": ";;"})


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "latin-1"])
def test_encodings(tmp_path, encoding):
    path = write(tmp_path, "d.csv", "text,label\ncafé crème,a\nnaïve,b\n".encode(encoding))
    assert read_dataset(path, DataConfig(encoding=encoding)).texts == ["café crème", "naïve"]


def test_unknown_encoding_is_a_setting_error():
    from seqclf.config import Config
    from seqclf.errors import ConfigError
    with pytest.raises(ConfigError, match="field 'encoding': unknown encoding"):
        Config().updated({"encoding": "klingon"})


# -- predict's inputs: one per row, in order -------------------------------------------------------


def test_inputs_keep_blank_lines_as_rows_of_their_own(tmp_path):
    path = write(tmp_path, "t.txt", "good movie\n\nbad movie\n   \nfine\n")
    inputs = read_inputs(path)
    assert len(inputs) == 5
    assert [row if isinstance(row, str) else (row.line, row.problem) for row in inputs] == [
        "good movie", (2, "empty text"), "bad movie", (4, "empty text"), "fine"]
    one_column = write(tmp_path, "t.csv", "text\ngood\n   \nbad\n")
    assert [isinstance(row, BadRow) for row in read_inputs(one_column)] == [False, True, False]


def test_inputs_split_lines_at_newlines_only(tmp_path):
    content = "a good\u2028b bad\nc\x85d\ne\x0bf\x0cg\x1ch\r\ni\n"
    path = write(tmp_path, "t.txt", content.encode("utf-8"))
    import io
    from_file = read_inputs(path)
    assert from_file == ["a good\u2028b bad", "c\x85d", "e\x0bf\x0cg\x1ch", "i"]
    assert read_inputs("-", stdin=io.BytesIO(content.encode("utf-8"))) == from_file


def test_malformed_input_rows_stop_or_are_marked(tmp_path):
    path = write(tmp_path, "t.jsonl", '{"text": "fine"}\n{"text": \n{"text": "also fine"}\n')
    with pytest.raises(DataError, match=r"t\.jsonl:2: invalid JSON.*--skip-bad-rows to give it an output row"):
        read_inputs(path)
    fine, bad, also = read_inputs(path, DataConfig(skip_bad_rows=True))
    assert (fine, also) == ("fine", "also fine") and bad.raw == '{"text": ' and bad.line == 2


def test_skipped_rows_keep_their_raw_content_across_lines(tmp_path):
    path = write(tmp_path, "d.csv", 'text,label\nok,a\n"two\nlines",b,extra\nfine,b\n')
    data = read_dataset(path, DataConfig(skip_bad_rows=True))
    (row,) = data.skipped
    assert (row.line, row.raw, row.problem) == (3, '"two\nlines",b,extra', "3 fields, the header has 2")
    assert BadRow.from_dict(row.to_dict()) == row


@pytest.mark.parametrize("name, header", [("d.tsv", "label\ttext"), ("d.jsonl", None), ("d.txt", None)])
def test_a_file_with_lone_cr_line_endings_says_so_and_what_to_do(tmp_path, name, header):
    rows = {"d.tsv": [header, *(f"pos\tgood film {i}" for i in range(2000))],
            "d.jsonl": [f'{{"text": "good film {i}", "label": "pos"}}' for i in range(2000)],
            "d.txt": [f"__label__pos good film {i}" for i in range(2000)]}[name]
    path = write(tmp_path, name, "\r".join(rows) + "\r")
    with pytest.raises(DataError) as error:
        read_dataset(path)
    message = str(error.value)
    assert message.startswith(f"{path}:1: line 1 holds carriage returns (CR) without a line feed")
    assert "convert its line endings to LF" in message and len(message) < 400  # the file is not quoted whole
    with pytest.raises(DataError, match="carriage returns"):
        read_inputs(path)


def test_a_csv_file_with_lone_cr_line_endings_reads_as_the_csv_module_reads_it(tmp_path):
    path = write(tmp_path, "d.csv", "label,text\rpos,good\rneg,bad\r")
    assert read_dataset(path).labels == ["pos", "neg"]


def test_a_missing_column_names_a_few_columns_not_the_whole_header(tmp_path):
    path = write(tmp_path, "d.tsv", "\t".join(f"column {i} " + "x" * 100 for i in range(500)) + "\npos\tgood\n")
    with pytest.raises(DataError) as error:
        read_dataset(path)
    assert "(500 columns)" in str(error.value) and len(str(error.value)) < 1000


@pytest.mark.parametrize("name, content", [
    ("d.tsv", "label\ttext\n pos \tgood\npos\tfine\nneg \tbad\n"),
    ("d.csv", 'label,text\n" pos ",good\npos,fine\nneg ,bad\n'),
    ("d.jsonl", '{}\n{"label": " pos ", "text": "good"}\n{"label": "pos", "text": "fine"}\n{"label": "neg ", "text": "bad"}\n'),
])
def test_labels_written_with_spaces_are_read_without_and_it_is_said_once_with_what_merged(tmp_path, name, content):
    path = write(tmp_path, name, content)
    with pytest.warns(SeqclfWarning) as caught:
        data = read_dataset(path, DataConfig(skip_bad_rows=True))  # the JSON file's line 1 is a bad row
    assert data.labels == ["pos", "pos", "neg"] and len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"{path}: 2 label(s) written with spaces around them read without: ' pos ' (line 2) as "
                              "'pos'; 'neg ' (line 4) as 'neg'")
    assert message.endswith("written both ways, 'pos' is one class")


def test_python_labels_with_spaces_are_read_like_a_files():
    with pytest.warns(SeqclfWarning, match=r"input: 1 label\(s\) .* ' pos ' \(item 0\) as 'pos'"):
        data = dataset_from_lists(["good", "fine"], [" pos ", "pos"])
    assert data.labels == ["pos", "pos"]
    with pytest.warns(SeqclfWarning, match=r"'a ' \(item 1\) as 'a'"):
        assert dataset_from_lists(["x", "y"], [["a"], ["a ", "b"]]).labels == [("a",), ("a", "b")]


def test_the_quoting_error_of_a_tab_separated_file_shows_the_tab_escaped(tmp_path):
    path = write(tmp_path, "d.tsv", 'label\ttext\npos\t"good" film\n')
    with pytest.raises(DataError) as error:
        read_dataset(path, DataConfig(quoting="csv"))
    assert "malformed row: '\\t' expected after '\"'" in str(error.value) and "\t" not in str(error.value)
