"""Ordinary files and ordinary mistakes, through the real command: nothing lost or altered in silence.

Each test reproduces one finding of issue 13 and checks the new behaviour."""
import json
import signal
import subprocess
import sys
import time

import pytest

from seqclf.data.demo import demo_corpus

from helpers import TINY_FLAGS, seqclf


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A TSV in the GLUE layout whose texts hold quotation marks, and a model trained on it."""
    folder = tmp_path_factory.mktemp("files")
    texts, labels = demo_corpus(300, seed=13)
    texts = [f'" {text} " he said' if i % 7 == 0 else text for i, text in enumerate(texts)]
    (folder / "train.tsv").write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)))
    result = seqclf("train", folder / "train.tsv", "--out", folder / "model", *TINY_FLAGS)
    assert result.returncode == 0, result.stderr
    return folder


def outputs(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.split("\n") if line]


def test_a_tsv_with_quotation_marks_trains_and_predicts(files):
    assert "examples 300" in seqclf("evaluate", files / "model", files / "train.tsv").stdout
    rows = outputs(seqclf("predict", files / "model", "--input", files / "train.tsv"))
    assert len(rows) == 300 and rows[0]["text"].startswith('" ')
    quoted = seqclf("train", files / "train.tsv", "--out", files / "q", "--quoting", "csv", *TINY_FLAGS)
    assert quoted.returncode == 2 and "--quoting none" in quoted.stderr and "skip" not in quoted.stderr


def test_blank_input_lines_get_rows_of_their_own(files):
    (files / "t.txt").write_text("good movie\n\nbad movie\n   \nfine\n")
    result = seqclf("predict", files / "model", "--input", files / "t.txt")
    rows = outputs(result)
    assert [row["label"] is None for row in rows] == [False, True, False, True, False]
    assert rows[1]["error"].endswith("t.txt:2: empty text") and rows[3]["text"] == "   "
    assert result.stderr.strip().startswith("5 inputs, 5 outputs; 2 without a label")
    (files / "one.csv").write_text("text\ngood\n   \nbad\n")
    assert [row["label"] is None for row in outputs(seqclf("predict", files / "model", "--input",
                                                           files / "one.csv"))] == [False, True, False]
    (files / "blank.tsv").write_text("text\n \n")  # a file of one blank text still gets its answer
    (row,) = outputs(seqclf("predict", files / "model", "--input", files / "blank.tsv"))
    assert row["label"] is None and row["error"].endswith("blank.tsv:2: empty text")
    (row,) = outputs(seqclf("predict", files / "model", "  "))
    assert row["label"] is None and row["error"] == "argument 1: empty text"


def test_standard_input_reads_as_a_file(files):
    content = "a good\u2028b bad\nc\x85d\ne\x0bf\x0cg\x1ch\r\nfive\n"
    (files / "five.txt").write_bytes(content.encode("utf-8"))
    from_file = outputs(seqclf("predict", files / "model", "--input", files / "five.txt"))
    from_stdin = outputs(seqclf("predict", files / "model", "--input", "-", stdin=content.encode("utf-8")))
    assert len(from_file) == 4 and from_stdin == from_file
    assert from_file[0]["text"] == "a good\u2028b bad"


def test_tsv_output_is_one_line_per_input(files):
    texts = [f"line {i}\twith a tab\nand a newline\\ and a backslash" for i in range(100)]
    (files / "multi.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    result = seqclf("predict", files / "model", "--input", files / "multi.jsonl", "--output-format", "tsv")
    lines = result.stdout.split("\n")[:-1]
    assert len(lines) == 100 and all(len(line.split("\t")) == 5 for line in lines)
    escaped = lines[7].split("\t")[-1]
    assert escaped == "line 7\\twith a tab\\nand a newline\\\\ and a backslash"
    assert escaped.encode().decode("unicode_escape") == texts[7]
    assert "100 inputs, 100 outputs" in result.stderr


def test_predict_skip_bad_rows_marks_the_row(files):
    (files / "bad.jsonl").write_text('{"text": "fine"}\n{"text": \n{"text": "good"}\n')
    refused = seqclf("predict", files / "model", "--input", files / "bad.jsonl")
    assert refused.returncode == 2 and "bad.jsonl:2: invalid JSON" in refused.stderr
    assert "--skip-bad-rows" in refused.stderr and refused.stdout == ""
    rows = outputs(seqclf("predict", files / "model", "--input", files / "bad.jsonl", "--skip-bad-rows",
                          "--output-format", "json"))
    assert [row["label"] is None for row in rows] == [False, True, False] and "invalid JSON" in rows[1]["error"]


def test_skipped_training_rows_are_all_written_down(tmp_path):
    texts, labels = demo_corpus(120, seed=3)
    rows = "".join(f"{t},{l}\n" for t, l in zip(texts, labels) if "," not in t)
    (tmp_path / "d.csv").write_text("text,label\n" + rows + ",positive\nx,y,z\n")
    (tmp_path / "test.csv").write_text("text,label\nnice,positive\n  ,negative\n")
    result = seqclf("train", tmp_path / "d.csv", "--out", tmp_path / "m", "--test", tmp_path / "test.csv",
                    "--skip-bad-rows", *TINY_FLAGS)
    assert result.returncode == 0, result.stderr
    listed = tmp_path / "m" / "skipped_rows.jsonl"
    assert f"skipped 3 bad rows in all: each is listed in {listed}" in result.stdout
    skipped = [json.loads(line) for line in listed.read_text().splitlines()]
    assert [(row["source"].rsplit("/", 1)[-1], row["problem"], row["raw"]) for row in skipped] == [
        ("d.csv", "empty text", ",positive"), ("d.csv", "3 fields, the header has 2", "x,y,z"),
        ("test.csv", "empty text", "  ,negative")]
    assert "test: accuracy" in result.stdout and "on 1 examples" in result.stdout


def test_a_second_training_into_a_busy_directory_fails_at_once(files, tmp_path):
    out = tmp_path / "busy"
    first = subprocess.Popen([sys.executable, "-m", "seqclf", "train", str(files / "train.tsv"), "--out", str(out),
                              "--epochs", "500", "--embed-dim", "8", "--hidden-dim", "8", "--checkpoint-seconds", "0"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.safetensors").exists():  # the first epoch is done: well under way
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.1)
        started = time.monotonic()
        second = seqclf("train", files / "train.tsv", "--out", out, *TINY_FLAGS)
        assert second.returncode == 2 and time.monotonic() - started < 30
        assert f"in use by another seqclf process (pid {first.pid}: seqclf train" in second.stderr
        assert second.stdout == ""
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: the lock goes with the process
        first.wait()
    third = seqclf("train", files / "train.tsv", "--out", out, *TINY_FLAGS)
    assert third.returncode == 2 and "holds the checkpoint of an unfinished training run" in third.stderr


def test_out_as_a_symbolic_link(files, tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "target")
    result = seqclf("train", files / "train.tsv", "--out", tmp_path / "link", *TINY_FLAGS)
    assert result.returncode == 0, result.stderr
    assert f"(a symbolic link: written to {tmp_path / 'target'})" in result.stdout
    assert (tmp_path / "link").is_symlink() and (tmp_path / "target" / "model.safetensors").is_file()
    assert not (tmp_path / "target" / "checkpoint.safetensors").exists()
    again = seqclf("train", files / "train.tsv", "--out", tmp_path / "target", *TINY_FLAGS)
    assert again.returncode == 0, again.stderr


def test_an_output_path_whose_links_loop_is_a_one_line_error_for_every_command_that_writes(files, tmp_path, model_dir):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for out in (tmp_path / "loop", tmp_path / "a", tmp_path / "a" / "model"):
        for command in (["train", files / "train.tsv", "--out", out, *TINY_FLAGS], ["demo", "--out", out],
                        ["evaluate", model_dir, files / "train.tsv", "--out", out]):
            result = seqclf(*command)
            assert result.returncode == 2, (command, result.stderr)
            assert "cannot follow its symbolic links" in result.stderr and "Traceback" not in result.stderr
            assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # evaluate says what it read first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "loop"]  # nothing made beside them


def test_nested_model_directories_and_the_users_files(files, tmp_path):
    model = tmp_path / "m1"
    assert seqclf("train", files / "train.tsv", "--out", model, *TINY_FLAGS).returncode == 0
    nested = seqclf("train", files / "train.tsv", "--out", model / "sub", *TINY_FLAGS)
    assert nested.returncode == 2 and "is inside the model directory" in nested.stderr and nested.stdout == ""
    (model / "README.txt").write_text("trained on Tuesday")
    assert seqclf("train", files / "train.tsv", "--out", model, *TINY_FLAGS).returncode == 0
    assert (model / "README.txt").read_text() == "trained on Tuesday"


def test_inputs_and_outputs_are_checked_before_any_work(files, tmp_path):
    (tmp_path / "bad-test.csv").write_text("text,label\nfine,positive\n\"never closed,negative\n")
    result = seqclf("train", files / "train.tsv", "--out", tmp_path / "m", "--test", tmp_path / "bad-test.csv",
                    *TINY_FLAGS)
    assert result.returncode == 2 and "bad-test.csv:3" in result.stderr
    assert "training trace" not in result.stdout and not (tmp_path / "m").exists()
    unknown = seqclf("train", files / "train.tsv", "--out", tmp_path / "m", "--valid", tmp_path / "missing.tsv",
                     *TINY_FLAGS)
    assert unknown.returncode == 2 and "missing.tsv: file not found" in unknown.stderr and unknown.stdout == ""
    (tmp_path / "labels.tsv").write_text("label\ttext\nsurprised\tno such class in training\n")
    other = seqclf("train", files / "train.tsv", "--out", tmp_path / "m", "--test", tmp_path / "labels.tsv",
                   *TINY_FLAGS)
    assert other.returncode == 2 and "labels not seen in training: 'surprised'" in other.stderr
    assert "training trace" not in other.stdout
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("precious")
    demo = seqclf("demo", "--out", tmp_path / "docs")
    assert demo.returncode == 2 and "not a seqclf model directory" in demo.stderr and demo.stdout == ""


def test_a_damaged_cache_entry_is_one_warning_line(files, tmp_path):
    import numpy as np

    cache = tmp_path / "cache"
    assert seqclf("train", files / "train.tsv", "--out", tmp_path / "a", "--cache-dir", cache,
                  *TINY_FLAGS).returncode == 0
    (entry,) = cache.iterdir()
    ids = np.load(entry / "ids.npy")
    ids[0] = 10**6
    np.save(entry / "ids.npy", ids)
    result = seqclf("train", files / "train.tsv", "--out", tmp_path / "b", "--cache-dir", cache, *TINY_FLAGS)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("warning: the cached encoding of") and "token ids outside the vocabulary" in line
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = seqclf("train", files / "train.tsv", "--out", tmp_path / "c", "--cache-dir", blocker, *TINY_FLAGS)
    assert result.returncode == 0
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("warning: could not write the corpus cache") and "UserWarning" not in line


@pytest.mark.parametrize("command, message", [
    (["predict", "{model}", "text", "--top-k", "0"], "field 'top-k': must be at least 1, got 0"),
    (["predict", "{model}", "text", "--top-k", "-1"], "field 'top-k': must be at least 1, got -1"),
    (["serve", "{model}", "--port", "99999"], "field 'port': must be between 1 and 65535, got 99999"),
    (["serve", "{model}", "--workers", "0"], "field 'workers': must be at least 1, got 0"),
    (["train", "{data}", "--out", "{tmp}/x", "--nproc", "0"], "field 'nproc': must be at least 1, got 0"),
    (["evaluate", "{model}", "{data}", "--errors", "0"], "field 'errors': must be at least 1, got 0"),
])
def test_command_numbers_are_range_checked(files, tmp_path, command, message):
    names = {"model": files / "model", "data": files / "train.tsv", "tmp": tmp_path}
    result = seqclf(*[part.format(**names) for part in command])
    assert result.returncode == 2 and result.stderr.strip() == f"error: {message}"
    assert result.stdout == ""


def test_resume_on_other_data_says_so(files, tmp_path):
    texts, labels = demo_corpus(200, seed=99)
    (tmp_path / "other.tsv").write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)))
    interrupted = subprocess.Popen([sys.executable, "-m", "seqclf", "train", str(files / "train.tsv"), "--out",
                                    str(tmp_path / "r"), "--epochs", "500", "--embed-dim", "8", "--hidden-dim", "8",
                                    "--checkpoint-seconds", "0"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (tmp_path / "r" / "checkpoint.safetensors").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    interrupted.send_signal(signal.SIGKILL)
    interrupted.wait()
    resumed = seqclf("train", tmp_path / "other.tsv", "--out", tmp_path / "r", "--resume", "--epochs", "500",
                     "--embed-dim", "8", "--hidden-dim", "8")
    assert resumed.returncode == 2
    assert "made with other data" in resumed.stderr and "max_len" not in resumed.stderr
