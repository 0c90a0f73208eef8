"""`seqclf tune`: a real search (small budget, tiny data), its study, its best settings, its model."""
import json

import yaml

from seqclf.data.demo import demo_corpus

from helpers import seqclf


def write(path, texts, labels):
    path.write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)))
    return path


def test_a_search_writes_its_study_best_settings_and_model_and_resumes(tmp_path):
    texts, labels = demo_corpus(300, seed=4)
    train, dev = write(tmp_path / "train.tsv", texts[:240], labels[:240]), write(tmp_path / "dev.tsv", texts[240:],
                                                                                  labels[240:])
    out = tmp_path / "tuned"
    first = seqclf("tune", train, "--valid", dev, "--out", out, "--budget", "20s", "--ensemble", "1", "--no-cache")
    assert first.returncode == 0, first.stderr
    assert "search (validation figure of each trial" in first.stdout and "final model" in first.stdout
    rows = [line for line in first.stdout.splitlines() if line.strip().startswith(("0 ", "0 *", "1 ", "1 *"))]
    assert rows and ("complete" in rows[0] or "pruned" in rows[0])
    assert (out / "study.db").is_file() and (out / "model" / "model.safetensors").is_file()
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["ensemble"] == 1 and best["encoder"] in ("lstm", "gru", "cnn", "bag")
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["model"]["encoder"] == best["encoder"] and config["train"]["lr"] == best["lr"]
    trials = int(first.stdout.split("search: ")[1].split(" trials")[0])
    again = seqclf("tune", train, "--valid", dev, "--out", out, "--budget", "10s", "--ensemble", "1", "--no-cache")
    assert again.returncode == 0, again.stderr
    assert int(again.stdout.split("search: ")[1].split(" trials")[0]) > trials  # the study went on


def test_bad_budgets_and_metrics_are_one_line_errors(tmp_path):
    result = seqclf("tune", tmp_path / "t.tsv", "--valid", tmp_path / "d.tsv", "--out", tmp_path / "o", "--budget", "soon")
    assert result.returncode == 2 and "--budget" in result.stderr and "Traceback" not in result.stderr
    result = seqclf("tune", tmp_path / "t.tsv", "--valid", tmp_path / "d.tsv", "--out", tmp_path / "o")
    assert result.returncode == 2 and "t.tsv: file not found" in result.stderr
