"""The default engine ("auto"): ONNX Runtime from the model directory's graph, exported there the first time
and whenever the weights changed; PyTorch where no graph can be (not saved, an encoder that does not export,
no ONNX packages, a directory that cannot be written), with the reason said. Real exports and sessions."""
import shutil

import numpy as np
import pytest

from seqclf import TextClassifier
from seqclf.api import EngineFallback, GraphExporting
from seqclf.deploy import backend as backend_module
from seqclf.deploy.onnx_export import PARITY_TOLERANCE

from helpers import TINY

TEXTS = ["I love this movie", "This is bad", "zzz", "a long " * 30 + "end"]


def start(directory, backend="auto"):
    """The loaded model, its engine started, and what the engine said on the way."""
    events = []
    model = TextClassifier.load(directory, backend)
    model.start_engine(events.append)
    return model, events


@pytest.fixture
def saved(model_dir, tmp_path):
    """A fresh copy of the tiny model directory, without a graph."""
    directory = shutil.copytree(model_dir, tmp_path / "tiny", ignore=shutil.ignore_patterns("*.onnx"))
    return directory


def test_the_first_use_writes_the_graph_and_later_ones_read_it(saved):
    model, events = start(saved)
    assert events == [GraphExporting(saved / "model.onnx")] and (saved / "model.onnx").is_file()
    assert model.engine.description == "ONNX Runtime fp32"
    torch_probabilities = TextClassifier.load(saved, "torch").predict_proba(TEXTS)
    assert np.abs(model.predict_proba(TEXTS) - torch_probabilities).max() <= PARITY_TOLERANCE
    written = (saved / "model.onnx").stat().st_mtime_ns
    again, events = start(saved)
    assert events == [] and again.engine.description == "ONNX Runtime fp32"
    assert (saved / "model.onnx").stat().st_mtime_ns == written


def test_a_graph_of_other_weights_is_exported_again(saved, demo_data, tmp_path):
    other = TextClassifier(**{**TINY, "seed": 1}).fit(*demo_data).save(tmp_path / "other")
    start(other)
    shutil.copy(other / "model.onnx", saved / "model.onnx")
    model, events = start(saved)
    assert events == [GraphExporting(saved / "model.onnx")]
    torch_probabilities = TextClassifier.load(saved, "torch").predict_proba(TEXTS)
    assert np.abs(model.predict_proba(TEXTS) - torch_probabilities).max() <= PARITY_TOLERANCE


def test_a_directory_the_graph_cannot_be_written_to_runs_pytorch_and_says_why(saved):
    (saved / "model.onnx").mkdir()  # in the graph's place: writing it fails (for root too, unlike a chmod)
    model, events = start(saved)
    assert len(events) == 2 and isinstance(events[1], EngineFallback) and "model.onnx" in events[1].reason
    assert model.engine.description == "PyTorch fp32" and model.predict_proba(TEXTS).sum(axis=1) == pytest.approx(1)


def test_where_no_graph_can_be_pytorch_runs_it_without_a_word(saved, fitted, monkeypatch, demo_data, tmp_path):
    assert fitted.engine.description == "PyTorch fp32"  # not saved: no directory to keep a graph in
    rnn = TextClassifier(**{**TINY, "encoder": "rnn"}).fit(*demo_data).save(tmp_path / "rnn")
    model, events = start(rnn)
    assert events == [] and model.engine.description == "PyTorch fp32" and not (rnn / "model.onnx").exists()
    monkeypatch.setattr(backend_module, "ONNX_PACKAGES", ("onnxruntime", "seqclf_no_such_package"))
    model, events = start(saved)
    assert events == [] and model.engine.description == "PyTorch fp32" and not (saved / "model.onnx").exists()


def test_asking_for_onnx_exports_too_but_never_falls_back(saved, demo_data, tmp_path):
    model, events = start(saved, "onnx")
    assert events == [GraphExporting(saved / "model.onnx")] and model.engine.description == "ONNX Runtime fp32"
    rnn = TextClassifier(**{**TINY, "encoder": "rnn"}).fit(*demo_data).save(tmp_path / "rnn")
    with pytest.raises(Exception, match="rnn encoder cannot be exported"):
        start(rnn, "onnx")


def test_int8_by_default_is_the_int8_graph(saved):
    model, events = start(saved, backend_module.BackendConfig(quantize="int8"))
    assert events == [GraphExporting(saved / "model.int8.onnx")] and model.engine.description == "ONNX Runtime int8"
    assert model.predict_proba(TEXTS).shape == (4, len(model.classes_))
