"""Experiment tracking read back through each library's own reader: TensorBoard's event files through
tensorboard's EventAccumulator, MLflow's runs through its client from a local SQLite store. No server."""
import subprocess
import sys

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from seqclf import ConfigError, TextClassifier

from helpers import TINY, TINY_FLAGS


def scalars(directory):
    events = EventAccumulator(str(directory))
    events.Reload()
    return {tag: [(event.step, event.value) for event in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_tensorboard_gets_each_epoch_and_the_final_figures(demo_data, tmp_path):
    clf = TextClassifier(**TINY, log_to="tensorboard", log_dir=str(tmp_path / "tb")).fit(*demo_data, progress=False)
    logged = scalars(tmp_path / "tb")
    assert [step for step, _ in logged["train_loss"]] == [1, 2]
    assert [value for _, value in logged["valid_accuracy"]] == pytest.approx(
        [record.valid_accuracy for record in clf.history.records])
    assert logged["final/valid_accuracy"][0][1] == pytest.approx(clf.validation["accuracy"])


def test_mlflow_gets_the_settings_each_epoch_and_the_final_figures(demo_data, tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    clf = TextClassifier(**TINY, log_to="mlflow").fit(*demo_data, progress=False)
    client = MlflowClient(uri)
    [run] = client.search_runs(experiment_ids=[client.get_experiment_by_name("Default").experiment_id])
    assert run.data.params["hidden_dim"] == "12" and run.data.params["epochs"] == "2"
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert sorted(metric.step for metric in history) == [1, 2]
    assert run.data.metrics["final.valid_accuracy"] == pytest.approx(clf.validation["accuracy"])
    assert run.info.status == "FINISHED"


def test_the_command_line_flag_and_a_missing_library(demo_data, tmp_path, monkeypatch):
    data = tmp_path / "train.tsv"
    data.write_text("label\ttext\n" + "".join(f"{label}\t{text}\n" for text, label in zip(*demo_data)))
    done = subprocess.run([sys.executable, "-m", "seqclf", "train", str(data), "--out",
                           str(tmp_path / "m"), *TINY_FLAGS, "--log-to", "tensorboard", "--log-dir",
                           str(tmp_path / "tb")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "train_loss" in scalars(tmp_path / "tb")
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"logging to mlflow needs mlflow.*seqclf\[mlflow\]"):
        TextClassifier(**TINY, log_to="mlflow").fit(["a b", "c d"] * 10, ["x", "y"] * 10, progress=False)
    with pytest.raises(ConfigError, match="log_to"):
        TextClassifier(log_to="wandb")
