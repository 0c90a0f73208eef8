"""The `seqclf` command end to end, each run a real subprocess."""
import csv
import json
import os
import subprocess
import sys

import pytest

from seqclf.data.demo import demo_corpus

from helpers import TINY_FLAGS as FLAGS
from helpers import BUSY_MACHINE_NOTE, seqclf


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    texts, labels = demo_corpus(400, seed=11)
    with open(folder / "train.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "text"])
        writer.writerows(zip(labels[:300], texts[:300]))
    (folder / "test.jsonl").write_text("".join(json.dumps({"text": t, "label": l}) + "\n"
                                               for t, l in zip(texts[300:], labels[300:])))
    (folder / "texts.txt").write_text("I love this movie\nThis is bad\n")
    return folder


@pytest.fixture(scope="module")
def trained(data_files):
    out = data_files / "model"
    result = seqclf("train", data_files / "train.csv", "--out", out, "--test", data_files / "test.jsonl", *FLAGS)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_train_prints_the_trace_the_chart_and_the_data_flow(trained):
    out, stdout = trained
    assert "train loss" in stdout and "valid acc" in stdout
    assert "loss per epoch" in stdout and "best epoch:" in stdout
    assert "300 x variable -> 300 x 12 -> 300 x 12 x 16" in stdout
    assert "test: accuracy" in stdout
    assert (out / "model.safetensors").is_file() and (out / "training_curve.png").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["embed_dim"] == 16 and config["model"]["bidirectional"] is False


def test_config_file_and_flags(data_files, tmp_path):
    (tmp_path / "c.yaml").write_text("epochs: 1\nembed_dim: 8\nhidden_dim: 4\n")
    result = seqclf("train", data_files / "train.csv", "--out", tmp_path / "m", "--config", tmp_path / "c.yaml",
                    "--hidden-dim", "6", "--valid", data_files / "test.jsonl")
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert (config["model"]["embed_dim"], config["model"]["hidden_dim"]) == (8, 6)  # flags win over the file


def test_evaluate_text_and_json(trained, data_files):
    out, _ = trained
    result = seqclf("evaluate", out, data_files / "test.jsonl")
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "confusion matrix" in result.stdout and "precision" in result.stdout
    assert "expected calibration error" in result.stdout
    report = json.loads(seqclf("evaluate", out, data_files / "test.jsonl", "--json").stdout)
    assert report["examples"] == 100 and set(report["per_class"]) == {"negative", "neutral", "positive"}
    assert sum(map(sum, report["confusion_matrix"]["rows_true_columns_predicted"])) == 100
    calibration = report["calibration"]
    assert sum(row["count"] for row in calibration["reliability"]) == 100 and calibration["bins"] == 15
    assert 0 <= calibration["expected_calibration_error"] <= 1
    mistakes = json.loads(seqclf("evaluate", out, data_files / "test.jsonl", "--json", "--errors", "3").stdout)["errors"]
    assert len(mistakes) <= 3 and all(m["gold"] != m["predicted"] for m in mistakes)
    assert "most confident mistakes" in seqclf("evaluate", out, data_files / "test.jsonl", "--errors", "3").stdout


def test_evaluate_writes_the_report_and_its_pictures(trained, data_files, tmp_path):
    out, _ = trained
    result = seqclf("evaluate", out, data_files / "test.jsonl", "--json", "--out", tmp_path / "evaluation")
    assert result.returncode == 0, result.stderr
    files = {path.name: path for path in (tmp_path / "evaluation").iterdir()}
    assert set(files) == {"report.json", "confusion_matrix.png", "reliability.png"}
    assert json.loads(files["report.json"].read_text()) == json.loads(result.stdout)
    for name in ("confusion_matrix.png", "reliability.png"):
        assert files[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {files[name]}" in result.stderr
    (tmp_path / "a-file").write_text("x")
    refused = seqclf("evaluate", out, data_files / "test.jsonl", "--out", tmp_path / "a-file")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip() == f"error: {tmp_path / 'a-file'}: field 'out': is a file, not a directory " \
                                     "(give a directory for the files)"


def test_predict_arguments_file_and_stdin_in_input_order(trained, data_files):
    out, _ = trained
    result = seqclf("predict", out, "first text", "second text")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["first text", "second text"]
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-5 for r in rows)
    from_file = [json.loads(l) for l in seqclf("predict", out, "--input", data_files / "texts.txt").stdout.splitlines()]
    from_stdin = [json.loads(l) for l in seqclf("predict", out, "--input", "-", stdin="I love this movie\nThis is bad\n").stdout.splitlines()]
    assert from_file == from_stdin and [r["text"] for r in from_file] == ["I love this movie", "This is bad"]
    from_jsonl = seqclf("predict", out, "--input", data_files / "test.jsonl").stdout.splitlines()
    assert len(from_jsonl) == 100


def test_predict_top_k_and_formats(trained):
    out, _ = trained
    (row,) = [json.loads(l) for l in seqclf("predict", out, "nice", "--top-k", "1").stdout.splitlines()]
    assert list(row["probabilities"]) == [row["label"]]
    tsv = seqclf("predict", out, "nice", "--output-format", "tsv").stdout.strip().split("\t")
    assert tsv[0] in ("negative", "neutral", "positive") and tsv[-1] == "nice" and len(tsv) == 5
    assert "probabilities" in seqclf("predict", out, "nice", "--output-format", "table").stdout


def test_trace_text_and_json(trained):
    out, _ = trained
    text = seqclf("trace", out, "I love this movie")
    assert text.returncode == 0
    for stage in ("1 tokens", "2 ids", "3 embedding", "4 encoder steps", "5 logits", "predicted"):
        assert stage in text.stdout
    data = json.loads(seqclf("trace", out, "I love this movie", "--json").stdout)
    assert data["length"] == 4 and len(data["ids"]) == 12 and data["label"] in data["classes"]
    predicted = json.loads(seqclf("predict", out, "I love this movie").stdout)
    assert predicted["label"] == data["label"]


def write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


BAD_TRAINING_FILES = {
    "empty.csv": ("", "file is empty"),
    "nocol.csv": ("body,label\nhi,a\n", "no column 'text'"),
    "data.xyz": ("text,label\nhi,a\n", "cannot tell the format"),
    "latin.csv": (b"text,label\nok,a\ncaf\xe9,b\n", "latin.csv:3: not valid UTF-8"),
    "one.csv": ("text,label\nhi,a\nho,a\n", "only one class"),
    "blank.csv": ("text,label\nhi,a\n  ,b\n", "blank.csv:3: field 'text': empty text"),
    "header.tsv": ("label\ttext\n", "no usable rows"),
    "random.jsonl": (bytes(range(256)) * 4, "not valid UTF-8"),
    "columns.csv": ("label,text\na,hi\nb,ho,extra\n", "columns.csv:3: 3 fields, the header has 2"),
    "quote.csv": ('label,text\na,hi\nb,"never closed\n', "quote.csv:3"),
    "nul.jsonl": ('{"text": "a\\u0000", "label": "x"}\n{"text": 5, "label": "y"}\n', "text is int"),
}


@pytest.mark.parametrize("name", sorted(BAD_TRAINING_FILES))
def test_bad_training_input_is_one_line_and_exit_2_and_writes_nothing(tmp_path, name):
    content, message = BAD_TRAINING_FILES[name]
    path = write(tmp_path / name, content)
    result = seqclf("train", path, "--out", tmp_path / "out", *FLAGS)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_impossible_output_is_one_line_before_any_training(data_files, tmp_path):
    blocker = write(tmp_path / "a-file", "not a directory")
    result = seqclf("train", data_files / "train.csv", "--out", blocker / "model", *FLAGS)
    assert result.returncode == 2 and result.stdout == ""  # refused before reading or training
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "a-file is a file, not a directory" in result.stderr


def test_bad_flag_values_exit_2(data_files, tmp_path):
    result = seqclf("train", data_files / "train.csv", "--out", tmp_path / "o", "--max-len", "long")
    assert result.returncode == 2 and "field 'max_len'" in result.stderr and "Traceback" not in result.stderr
    result = seqclf("train", data_files / "train.csv", "--out", tmp_path / "o", "--input-format", "xml")
    assert result.returncode == 2 and "unknown value 'xml'" in result.stderr


def test_skip_bad_rows_reports_the_count(tmp_path):
    texts, labels = demo_corpus(120, seed=3)
    rows = "".join(f"{t},{l}\n" for t, l in zip(texts, labels) if "," not in t)
    path = write(tmp_path / "d.csv", "text,label\n" + rows + ",positive\nx,y,z\n")
    result = seqclf("train", path, "--out", tmp_path / "m", "--skip-bad-rows", "--epochs", "1", *FLAGS[2:])
    assert result.returncode == 0, result.stderr
    assert "skipped 2 bad rows" in result.stdout


def test_model_directory_from_nowhere(tmp_path):
    for command in (["predict", tmp_path / "none", "text"], ["trace", tmp_path / "none", "text"],
                    ["evaluate", tmp_path, tmp_path / "x.csv"]):
        result = seqclf(*command)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_predict_without_texts(trained):
    out, _ = trained
    result = seqclf("predict", out)
    assert result.returncode == 2 and "no texts to classify" in result.stderr


def test_second_training_run_uses_the_cache_and_gives_the_same_model(data_files, tmp_path):
    cache = ["--cache-dir", tmp_path / "cache"]
    first = seqclf("train", data_files / "train.csv", "--out", tmp_path / "a", *cache, *FLAGS)
    second = seqclf("train", data_files / "train.csv", "--out", tmp_path / "b", *cache, *FLAGS)
    assert "read and encoded" in first.stdout and "loaded from the cache" in second.stdout
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    third = seqclf("train", data_files / "train.csv", "--out", tmp_path / "c", "--no-cache", *FLAGS)
    assert "read and encoded" in third.stdout


def test_pretrained_vectors_report_their_coverage(data_files, tmp_path):
    (tmp_path / "v.txt").write_text("movie " + " ".join(["0.1"] * 16) + "\nzzz " + " ".join(["0.2"] * 16) + "\n")
    result = seqclf("train", data_files / "train.csv", "--out", tmp_path / "m", "--vectors", tmp_path / "v.txt",
                    "--epochs", "1", *FLAGS[2:])
    assert result.returncode == 0, result.stderr
    assert "1 of" in result.stdout and "vocabulary words found" in result.stdout
    bad = seqclf("train", data_files / "train.csv", "--out", tmp_path / "n", "--vectors", tmp_path / "none.txt", *FLAGS)
    assert bad.returncode == 2 and "vectors file not found" in bad.stderr and not (tmp_path / "n").exists()


def test_export_then_predict_and_evaluate_on_onnx_runtime(trained, data_files):
    out, _ = trained
    for extra in ([], ["--quantize", "int8"]):
        result = seqclf("export", out, *extra)
        assert result.returncode == 0, result.stderr
        assert "input_ids int64 (batch, sequence), attention_mask int64 (batch, sequence)" in result.stdout
        assert "max probability difference" in result.stdout
    assert "-> int8" in result.stdout and (out / "model.onnx").is_file() and (out / "model.int8.onnx").is_file()
    texts = ["I love this movie", "This is bad"]
    labels = {b: [json.loads(line)["label"] for line in seqclf("predict", out, *texts, *b.split()).stdout.splitlines()]
              for b in ("--backend torch", "--backend onnx")}
    assert labels["--backend onnx"] == labels["--backend torch"] and len(labels["--backend torch"]) == 2
    reports = {b: json.loads(seqclf("evaluate", out, data_files / "test.jsonl", "--json", *b.split()).stdout)
               for b in ("--backend torch", "--backend onnx", "--backend onnx --quantize int8")}
    assert reports["--backend onnx"]["accuracy"] == reports["--backend torch"]["accuracy"]
    assert abs(reports["--backend onnx --quantize int8"]["accuracy"] - reports["--backend torch"]["accuracy"]) <= 0.05
    # predicting and evaluating with ONNX Runtime never imports PyTorch (about 1.5 s of the process)
    for command in (["predict", out, *texts], ["evaluate", out, data_files / "test.jsonl"]):
        script = (f"import sys; from seqclf.cli import main; code = main({[*map(str, command), '--backend', 'onnx']!r}); "
                  "print('torch imported:', 'torch' in sys.modules); sys.exit(code)")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == "torch imported: False"


def test_explain_texts_json_a_chosen_class_and_the_onnx_backend(trained):
    out, _ = trained
    text = seqclf("explain", out, "I love this movie", "This is bad")
    assert text.returncode == 0, text.stderr
    assert text.stdout.count("explanation of") == 2 and "convergence delta" in text.stdout
    lines = seqclf("explain", out, "I love this movie", "This is bad", "--json", "--steps", "10").stdout.splitlines()
    first, second = map(json.loads, lines)
    assert first["steps"] == 10 and [t["text"] for t in first["tokens"]] == ["I", "love", "this", "movie"]
    assert first["label"] == first["predicted"] == json.loads(seqclf("predict", out, "I love this movie").stdout)["label"]
    total = sum(t["attribution"] for t in second["tokens"])
    assert total == pytest.approx(second["score"] - second["baseline_score"] + second["delta"], abs=1e-4)
    chosen = json.loads(seqclf("explain", out, "This is bad", "--json", "--label", "neutral").stdout)
    assert chosen["label"] == "neutral"
    assert seqclf("export", out, "--onnx", out / "explain.onnx").returncode == 0
    onnx = json.loads(seqclf("explain", out, "This is bad", "--json", "--backend", "onnx", "--onnx",
                             out / "explain.onnx").stdout)
    assert "explained through the float32 PyTorch model" in onnx["note"]
    for args, message in ((["nothing"], "unknown class 'nothing'"), ([], "give texts to explain")):
        bad = seqclf("explain", out, *(["x", "--label"] if args else []), *args)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr


def test_explain_top_words_of_a_data_file(trained, data_files):
    out, _ = trained
    result = seqclf("explain", out, "--data", data_files / "test.jsonl", "--top-words", "5", "--json", "--steps", "10")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["classes"]) == {"negative", "neutral", "positive"} and report["texts"] == 100
    for words in report["classes"].values():
        assert 1 <= len(words) <= 5 and all(w["count"] >= 3 for w in words)
        means = [w["mean_attribution"] for w in words]
        assert means == sorted(means, reverse=True)
    table = seqclf("explain", out, "--data", data_files / "test.jsonl", "--top-words", "3", "--steps", "5")
    assert table.returncode == 0 and "top words per class" in table.stdout


def test_audit_writes_a_ranking_a_person_can_review(data_files, tmp_path):
    rows = list(csv.reader(open(data_files / "train.csv", newline="")))
    header, body = rows[0], rows[1:]
    wrong = {"positive": "negative", "negative": "positive", "neutral": "positive"}
    for row in body[:6]:  # six labels made wrong
        row[0] = wrong[row[0]]
    with open(tmp_path / "noisy.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    result = seqclf("audit", tmp_path / "noisy.csv", "--out", tmp_path / "audit", "--folds", "3", "--epochs", "3")
    assert result.returncode == 0, result.stderr
    assert "fold 3/3" in result.stdout and "likeliest label errors" in result.stdout
    table = list(csv.DictReader(open(tmp_path / "audit" / "label_issues.csv", newline="")))
    lines = [json.loads(line) for line in (tmp_path / "audit" / "label_issues.jsonl").read_text().splitlines()]
    assert len(table) == len(lines) == len(body)
    assert [row["where"] for row in table] == [row["where"] for row in lines]
    assert table[0]["where"].startswith(str(tmp_path / "noisy.csv") + ":") and table[0]["rank"] == "1"
    made_wrong = {f"{tmp_path / 'noisy.csv'}:{line}" for line in range(2, 8)}
    assert len(made_wrong & {row["where"] for row in lines[:30]}) >= 3  # most of them among the first 10%
    summary = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert summary["examples"] == len(body) and summary["folds"] == 3
    for flags, message in ((["--folds", "1"], "must be at least 2"), (["--folds", "200"], "fewer examples than folds")):
        bad = seqclf("audit", tmp_path / "noisy.csv", "--out", tmp_path / "audit2", *flags)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr


def test_export_problems_are_one_line_and_exit_2(data_files, tmp_path):
    model = tmp_path / "rnn"
    assert seqclf("train", data_files / "train.csv", "--out", model, *FLAGS, "--encoder", "rnn").returncode == 0
    result = seqclf("export", model)
    assert result.returncode == 2 and "rnn encoder cannot be exported" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (model / "model.onnx").exists()
    result = seqclf("predict", model, "some text", "--backend", "onnx")
    assert result.returncode == 2 and "rnn encoder cannot be exported" in result.stderr and "Traceback" not in result.stderr
    # the default engine runs PyTorch, silently, for a model no graph can be made of (--threads: no line about
    # a busy machine either)
    result = seqclf("predict", model, "some text", "--threads", "1")
    assert result.returncode == 0 and result.stderr.count("\n") == 1 and not (model / "model.onnx").exists()


def test_a_busy_machine_is_said_once(model_dir):
    """Beside processes that keep every core but one busy, a command that runs a model says so, once, on
    stderr (the test helper takes this line out of other tests' stderr, as it depends on the machine)."""
    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        pytest.skip("needs 2 cores: one kept busy, one left to the command")
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores - 1)]
    try:
        result = subprocess.run([sys.executable, "-m", "seqclf", "predict", str(model_dir), "a fine film",
                                 "--backend", "torch"], capture_output=True, text=True, timeout=300)
    finally:
        for burner in burners:
            burner.kill()
    notes = [line for line in result.stderr.splitlines() if line.startswith(BUSY_MACHINE_NOTE)]
    assert result.returncode == 0 and len(notes) == 1, result.stderr
    assert "kept busy by other processes" in notes[0] and "--threads N sets the count" in notes[0]


def test_an_ensemble_of_recipes_from_the_command_line(data_files, tmp_path):
    out = tmp_path / "mixed"
    result = seqclf("train", data_files / "train.csv", "--out", out, "--ensemble", "gru,bag", "--pooling", "max",
                    *FLAGS)
    assert result.returncode == 0, result.stderr
    assert "sequence model 1 of 2 (gru, seed 13)" in result.stdout
    assert "sequence model 2 of 2 (bag, seed 1013)" in result.stdout
    assert "2 models (gru, bag)" in result.stdout  # the data-flow table
    traced = seqclf("trace", out, "I love this movie")
    assert traced.returncode == 0 and "sequence model 2 (bag)" in traced.stdout
    refused = seqclf("train", data_files / "train.csv", "--out", tmp_path / "o", "--ensemble", "gru,lstmm", *FLAGS)
    assert refused.returncode == 2 and "unknown recipe 'lstmm'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_distill_writes_a_student_that_any_command_reads(data_files, tmp_path):
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    trained = seqclf("train", data_files / "train.csv", "--out", teacher, "--ensemble", "gru,bag", "--pooling", "max",
                     *FLAGS)
    assert trained.returncode == 0, trained.stderr
    result = seqclf("distill", teacher, data_files / "train.csv", "--out", student, "--copies", "2", "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert f"distilling {teacher} into one bag model" in result.stdout
    assert "the student gives the teacher's answer on" in result.stdout
    saved = json.loads((student / "distillation.json").read_text())
    assert saved["teacher"]["directory"] == str(teacher) and saved["settings"]["copies"] == 2
    traced = seqclf("trace", student, "I love this movie")
    assert traced.returncode == 0 and "sequence model 2" not in traced.stdout
    refused = seqclf("distill", teacher, data_files / "train.csv", "--out", tmp_path / "o", "--drop", "1.5")
    assert refused.returncode == 2 and "drop" in refused.stderr and "Traceback" not in refused.stderr
