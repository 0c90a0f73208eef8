"""Multi-label input: label sets from a delimited field, a JSON list, several fastText tags and Python
lists; detection from the data; every bad label names its file, line and field."""
import json

import numpy as np
import pytest

from seqclf.task import MULTI_LABEL
from seqclf.text.encoded import encode_training_data, targets
from seqclf.data.readers import dataset_from_lists, read_dataset
from seqclf.data.settings import DataConfig
from seqclf.errors import DataError
from seqclf.text.tokenizer import TokenizerConfig


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_label_field_is_split_at_the_separator_with_multi_label(tmp_path):
    path = write(tmp_path, "d.csv", 'text,label\ngood goal,"sport, news"\nquiet day,\nbank news,news,news\n'
                 .replace("bank news,news,news", 'bank news,"money,news,news"'))
    data = read_dataset(path, DataConfig(multi_label=True))
    assert data.task is MULTI_LABEL and data.detected is None
    assert data.labels == [("sport", "news"), (), ("money", "news")]  # stripped, an empty field: no labels, once each
    # without --multi-label the same field is one class name (a comma may be part of a name)
    plain = read_dataset(write(tmp_path, "e.csv", 'text,label\ngood goal,"sport, news"\n'))
    assert plain.labels == ["sport, news"] and plain.task is not MULTI_LABEL


def test_a_tsv_label_field_with_another_separator(tmp_path):
    path = write(tmp_path, "d.tsv", "text\tlabel\nfirst\ta|b\nsecond\tb\n")
    data = read_dataset(path, DataConfig(multi_label=True, label_separator="|"))
    assert data.labels == [("a", "b"), ("b",)]


def test_a_jsonl_list_of_labels_makes_the_data_multi_label_and_says_where(tmp_path):
    rows = [{"text": "one", "label": "a"}, {"text": "two", "label": ["a", "b"]}, {"text": "three", "label": []}]
    path = write(tmp_path, "d.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    data = read_dataset(path)  # multi_label not set: detected
    assert data.task is MULTI_LABEL and data.labels == [("a",), ("a", "b"), ()]
    assert data.detected == f"{path}:2 gives a list of 2 labels"


def test_several_fasttext_tags_are_a_label_set(tmp_path):
    path = write(tmp_path, "d.txt", "__label__a __label__b first text\n__label__b second\n")
    data = read_dataset(path)
    assert data.task is MULTI_LABEL and data.labels == [("a", "b"), ("b",)] and data.texts == ["first text", "second"]
    # with multi_label a line without tags is a text with no labels, not an error
    no_tags = write(tmp_path, "e.txt", "__label__a first\nsecond without labels\n")
    assert read_dataset(no_tags, DataConfig(multi_label=True)).labels == [("a",), ()]
    with pytest.raises(DataError, match="e.txt:2.*no __label__NAME label"):
        read_dataset(no_tags)


@pytest.mark.parametrize("label, problem", [
    ([{"x": 1}], "a label in the list is dict"),
    ([True], "a label in the list is bool"),
    ({"a": 1}, "label is dict"),
])
def test_a_bad_label_set_names_file_line_and_field(tmp_path, label, problem):
    path = write(tmp_path, "d.jsonl", json.dumps({"text": "ok", "label": ["a"]}) + "\n"
                 + json.dumps({"text": "bad", "label": label}) + "\n")
    with pytest.raises(DataError) as caught:
        read_dataset(path, DataConfig(multi_label=True))
    assert f"{path}:2" in str(caught.value) and problem in str(caught.value) and "'label'" in str(caught.value)


def test_python_lists_of_labels():
    data = dataset_from_lists(["a text", "another", "third"], [["x", "y"], [], "x"])
    assert data.task is MULTI_LABEL and data.labels == [("x", "y"), (), ("x",)] and data.detected == "item 0 is a list of labels"
    with pytest.raises(DataError, match="item 1"):
        dataset_from_lists(["a", "b"], [["x"], [None]])


def test_label_sets_encode_to_a_multi_hot_matrix_in_the_class_order():
    data = dataset_from_lists(["a", "b", "c"], [["y", "x"], [], ["x"]])
    _, encoded = encode_training_data(data, TokenizerConfig(max_len=4))
    assert encoded.task is MULTI_LABEL and len(encoded) == 3 and encoded.label_names == ["y", "x"]
    np.testing.assert_array_equal(targets(encoded, ["x", "y"], MULTI_LABEL), [[1, 1], [0, 0], [1, 0]])


def test_label_separator_must_be_one_character():
    with pytest.raises(Exception, match="label_separator"):
        DataConfig(label_separator="||").validate()
