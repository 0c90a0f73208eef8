"""`seqclf tune`: a real search (a few trials, tiny data), its study, its best settings, its model."""
import json
import os
import shutil

import optuna
import yaml

from seqclf.data.demo import demo_corpus

from helpers import seqclf


def write(path, texts, labels):
    path.write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)))
    return path


def summary(stdout: str) -> str:
    (line,) = [line for line in stdout.splitlines() if line.startswith("search: ")]
    return line


def trials_of(out) -> list[tuple[int, str, dict, float]]:
    study = optuna.load_study(study_name="seqclf", storage=f"sqlite:///{out / 'study.db'}")
    return [(t.number, t.state.name, t.params, t.value) for t in study.trials]


def test_a_search_writes_its_study_best_settings_and_model_and_resumes_up_to_its_trials(tmp_path):
    """Counted in trials, not seconds: nothing here depends on how fast the machine is."""
    texts, labels = demo_corpus(300, seed=4)
    train, dev = write(tmp_path / "train.tsv", texts[:240], labels[:240]), write(tmp_path / "dev.tsv", texts[240:],
                                                                                  labels[240:])
    out = tmp_path / "tuned"
    command = ["tune", train, "--valid", dev, "--out", out, "--ensemble", "1", "--no-cache", "--trials"]
    first = seqclf(*command, "2")
    assert first.returncode == 0, first.stderr
    assert "search (validation figure of each trial" in first.stdout and "final model" in first.stdout
    rows = [line.split()[0] for line in first.stdout.splitlines() if " complete " in line or " pruned " in line]
    assert rows == ["0", "1"]
    assert summary(first.stdout).startswith("search: 2 trials finished (") and "2 of them in this run" in first.stdout
    assert (out / "study.db").is_file() and (out / "model" / "model.safetensors").is_file()
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["ensemble"] == 1 and best["encoder"] in ("lstm", "gru", "cnn", "bag")
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["model"]["encoder"] == best["encoder"] and config["train"]["lr"] == best["lr"]
    before = trials_of(out)
    assert [state for _, state, _, _ in before] == ["COMPLETE", "COMPLETE"]  # no time limit: nothing cut short

    again = seqclf(*command, "3")  # the study goes on: one more trial, the first two kept as they were
    assert again.returncode == 0, again.stderr
    rows = [line.split()[0] for line in again.stdout.splitlines() if " complete " in line or " pruned " in line]
    assert rows == ["2"]
    assert summary(again.stdout).startswith("search: 3 trials finished (") and "1 of them in this run" in again.stdout
    after = trials_of(out)
    assert len(after) == 3 and after[:2] == before and after[2][1] in ("COMPLETE", "PRUNED")
    best_yaml = (out / "best.yaml").read_text()
    assert best_yaml.startswith("# seqclf tune: trial ") and " of 3, " in best_yaml.splitlines()[0]

    (out / "best.yaml").unlink()
    shutil.rmtree(out / "model")
    done = seqclf(*command, "3")  # nothing left to search: no trial, but best.yaml and the final model again
    assert done.returncode == 0, done.stderr
    assert "search (validation figure" not in done.stdout and "final model" in done.stdout
    assert summary(done.stdout).startswith("search: 3 trials finished (") and "none of them in this run" in done.stdout
    assert trials_of(out) == after
    assert (out / "best.yaml").read_text() == best_yaml and (out / "model" / "model.safetensors").is_file()


def test_bad_budgets_and_metrics_are_one_line_errors(tmp_path):
    result = seqclf("tune", tmp_path / "t.tsv", "--valid", tmp_path / "d.tsv", "--out", tmp_path / "o", "--budget", "soon")
    assert result.returncode == 2 and "--budget" in result.stderr and "Traceback" not in result.stderr
    result = seqclf("tune", tmp_path / "t.tsv", "--valid", tmp_path / "d.tsv", "--out", tmp_path / "o")
    assert result.returncode == 2 and "t.tsv: file not found" in result.stderr


def test_a_damaged_study_is_one_line_before_any_work(tmp_path):
    texts, labels = demo_corpus(60, seed=4)
    train = write(tmp_path / "train.tsv", texts, labels)
    (tmp_path / "tuned").mkdir()
    (tmp_path / "tuned" / "study.db").write_bytes(os.urandom(3000))
    result = seqclf("tune", train, "--valid", train, "--out", tmp_path / "tuned", "--trials", "1", "--no-cache")
    assert result.returncode == 2 and result.stdout == "", result.stderr  # nothing read, nothing searched
    (line,) = result.stderr.strip().splitlines()
    assert line == (f"error: {tmp_path / 'tuned' / 'study.db'}: is damaged or not an SQLite database (file is not a "
                    "database) (delete it to start the search afresh, or choose another --out)")
