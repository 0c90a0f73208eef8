"""Hostile input files: each one reads correctly or raises the project's clear error, nothing else."""
import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqclf import DataError
from seqclf.data.settings import DataConfig
from seqclf.data.readers import read_dataset

FILES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that real files contain and naive readers break on: RTL, emoji, zero-width, NUL, BOM,
# quotes, separators, every kind of line break, and surrogate-free code points in general.
NASTY = st.sampled_from(["\u202e", "\u200b", "\ufeff", "\x00", "👍🏽", "مرحبا", '"', "'", ",", "\t", "\r\n", "\n",
                         "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\\", "__label__x"])
TEXT = st.lists(st.one_of(NASTY, st.text(st.characters(exclude_categories=("Cs",)), max_size=8)),
                max_size=8).map("".join)
LABEL = st.sampled_from(["pos", "neg", "a b", "ünï", "1"])


def read(path, **settings):
    """The readers' contract: a Dataset, or a DataError that names the file."""
    try:
        return read_dataset(path, DataConfig(**settings))
    except DataError as exc:
        assert str(path) in str(exc)
        return None


def assert_round_trip(dataset, rows):
    """Every text comes back exactly; only a blank text (nothing a classifier can use) is refused."""
    if any(not text.strip() for text, _ in rows):
        assert dataset is None
    else:
        assert dataset is not None
        assert dataset.texts == [text for text, _ in rows]
        assert dataset.labels == [label for _, label in rows]


@FILES
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".txt"]))
def test_random_bytes(tmp_path, data, suffix):
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    read(path)


@FILES
@given(rows=st.lists(st.tuples(TEXT, LABEL), min_size=1, max_size=6), delimiter=st.sampled_from([",", "\t"]))
def test_quoted_delimited_files_round_trip(tmp_path, rows, delimiter):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["label", "text"])
    writer.writerows((label, text) for text, label in rows)
    path = tmp_path / ("data.csv" if delimiter == "," else "data.tsv")
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    assert_round_trip(read(path, quoting="csv"), rows)


@FILES
@given(rows=st.lists(st.tuples(TEXT, LABEL), min_size=1, max_size=6))
def test_plain_tsv_files_round_trip(tmp_path, rows):
    """TSV as GLUE and SentEval write it: no quoting, so quotation marks are text; tabs and line
    breaks cannot be in a field (the rows that hold them are left out of this test)."""
    rows = [(text, label) for text, label in rows if not set(text) & {"\t", "\n", "\r"}] or [('"quoted" text', "pos")]
    path = tmp_path / "data.tsv"
    path.write_text("label\ttext\n" + "".join(f"{label}\t{text}\n" for text, label in rows), encoding="utf-8")
    assert_round_trip(read(path), rows)


@FILES
@given(rows=st.lists(st.tuples(TEXT, LABEL), min_size=1, max_size=6), bom=st.booleans())
def test_jsonl_files_round_trip(tmp_path, rows, bom):
    lines = [json.dumps({"text": text, "label": label}, ensure_ascii=False) for text, label in rows]
    path = tmp_path / "data.jsonl"
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    assert_round_trip(read(path), rows)


@pytest.mark.parametrize("content, message", [
    ("", "empty"),
    ("label,text\n", "header or bad rows only"),
    ("label,text\npos\n", "line 2|:2:"),
    ("label,text\npos,good,extra\n", ":2:"),
    ("label,body\npos,good\n", "no column 'text'"),
    ('label,text\npos,"never closed\n', ":2:"),
])
def test_structural_problems_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "data.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_dataset(path)


def test_a_ten_megabyte_line_reads(tmp_path):
    text = "word " * 2_000_000
    for name, content in [("big.csv", f'label,text\npos,"{text}"\nneg,short\n'),
                          ("big.tsv", f"label\ttext\npos\t{text}\nneg\tshort\n"),
                          ("big.jsonl", json.dumps({"text": text, "label": "pos"}) + "\n"
                           + json.dumps({"text": "short", "label": "neg"}) + "\n")]:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        assert read_dataset(path).texts[0] == text
