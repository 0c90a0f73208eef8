"""Labels, texts, paths and column names that hold Rich markup, emoji codes, escape sequences and tabs, through
every command: printed as written (control characters escaped), never read as markup, never a crash."""
import json

import pytest

from seqclf.data.demo import demo_corpus
from seqclf.printable import printable

from helpers import TINY_FLAGS, seqclf
from serving import start, stop

LABELS = {"positive": "[/]", "negative": "[bold]neg\tx", "neutral": "\x1b[31m:smile: $5 $"}
COLUMNS = ["--text-column", "[i]review", "--label-column", "[/]class"]
TEXT = "[bold]what a [/] film :smile: \x1b[2J"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A JSONL file of such labels, texts and column names, in a folder whose name is markup; the model trained
    on it (its --out too); and what training printed."""
    folder = tmp_path_factory.mktemp("hostile") / "[bold]data :smile:"
    folder.mkdir()
    texts, labels = demo_corpus(300, seed=31)
    rows = [{"[i]review": f"[red]{text}\x1b[0m" if i % 5 == 0 else text, "[/]class": LABELS[label]}
            for i, (text, label) in enumerate(zip(texts, labels))]
    data = folder / "train.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = folder / "[/]model [link=x]"
    trained = seqclf("train", data, "--out", out, "--test", data, *COLUMNS, *TINY_FLAGS)
    return data, out, trained


def literal(result) -> str:
    """The command's output, checked: exit 0, no traceback, no escape sequence reaching the terminal."""
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "\x1b" not in output and "MarkupError" not in output
    return output


def test_train_prints_the_labels_and_paths_as_written_and_finishes(hostile):
    data, out, trained = hostile
    output = literal(trained)
    assert f"model saved to {printable(str(out))}" in output and "test: accuracy" in output
    for label in LABELS.values():
        assert printable(label) in output
    assert printable(str(data)) in output


def test_evaluate_tables_show_the_labels_as_written(hostile):
    data, out, _ = hostile
    output = literal(seqclf("evaluate", out, data, "--errors", "3", *COLUMNS))
    for label in LABELS.values():
        assert printable(label) in output
    assert "[red]" in output  # a text of the most confident mistakes, or of the data, as written


@pytest.mark.parametrize("format", ["json", "tsv", "table"])
def test_predict_in_every_format_keeps_one_output_per_input_and_the_labels_as_written(hostile, format):
    data, out, _ = hostile
    result = seqclf("predict", out, TEXT, "second\ttext", "--output-format", format)
    output = literal(result)
    lines = result.stdout.rstrip("\n").split("\n")
    if format == "json":
        answers = [json.loads(line) for line in lines]
        assert [a["text"] for a in answers] == [TEXT, "second\ttext"]
        assert all(a["label"] in LABELS.values() and set(a["probabilities"]) == set(LABELS.values()) for a in answers)
    elif format == "tsv":
        assert len(lines) == 2 and all(len(line.split("\t")) == 1 + len(LABELS) + 1 for line in lines)
        assert lines[1].endswith("\tsecond\\ttext")
    else:
        assert all(printable(label) in output for label in LABELS.values()) and printable(TEXT) in output


def test_trace_and_explain_show_the_text_and_classes_as_written(hostile):
    _, out, _ = hostile
    for command in ("trace", "explain"):
        output = literal(seqclf(command, out, TEXT))
        assert "[bold]what" in output and printable(LABELS["negative"]) in output


def test_audit_names_its_file_as_written(hostile, tmp_path):
    data, _, _ = hostile
    output = literal(seqclf("audit", data, "--out", tmp_path / "[/]audit", "--folds", "2", "--show", "3", *COLUMNS,
                            *TINY_FLAGS))
    assert f"auditing 300 examples of {printable(str(data))}" in output
    assert all(printable(label) in output for label in LABELS.values())


def test_serve_names_its_model_as_written(hostile):
    _, out, _ = hostile
    process, port = start(out)
    assert f"serving {printable(str(out))} " in stop(process)
