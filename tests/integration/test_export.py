"""ONNX export, the ONNX Runtime backend and int8 quantization, on the tiny demo model: real dynamo exports
and ONNX Runtime sessions, so the integration tier (the backend settings alone are in unit/deploy).

Parity on real data for every encoder, and int8 accuracy, are in tests/integration/test_onnx.py.
"""
import json
import shutil

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from fastapi.testclient import TestClient
from tokenizers import Tokenizer

from seqclf import ModelDirError, TextClassifier
from seqclf.deploy import onnx_export
from seqclf.deploy.backend import BackendConfig
from seqclf.deploy.onnx_export import ExportError
from seqclf.errors import ConfigError
from seqclf.server import create_app

from helpers import TINY


@pytest.fixture(scope="module")
def exported(model_dir, tmp_path_factory):
    """A copy of the tiny model directory with model.onnx and model.int8.onnx exported into it."""
    directory = tmp_path_factory.mktemp("exported") / "tiny"
    shutil.copytree(model_dir, directory)
    clf = TextClassifier.load(directory)
    reports = {q: clf.export_onnx(directory / name, quantize=q)
               for q, name in ((None, "model.onnx"), ("int8", "model.int8.onnx"))}
    return directory, reports


def test_the_graph_passes_the_checker_and_documents_its_contract(exported, fitted):
    directory, reports = exported
    graph = onnx.load(directory / "model.onnx")
    onnx.checker.check_model(graph, full_check=True)
    inputs = {i.name: i.type.tensor_type for i in graph.graph.input}
    outputs = {o.name: o.type.tensor_type for o in graph.graph.output}
    assert list(inputs) == ["input_ids", "attention_mask"] and list(outputs) == ["logits", "probabilities"]
    for tensor in inputs.values():
        assert tensor.elem_type == onnx.TensorProto.INT64
        assert [d.dim_param for d in tensor.shape.dim] == ["batch", "sequence"]  # both axes dynamic
    assert all(t.elem_type == onnx.TensorProto.FLOAT for t in outputs.values())
    metadata = {p.key: p.value for p in graph.metadata_props}
    assert json.loads(metadata["seqclf.labels"]) == fitted.classes_
    assert metadata["seqclf.max_len"] == str(fitted.tokenizer.max_len)
    assert reports[None].parity_error <= 1e-4 and reports[None].bytes == (directory / "model.onnx").stat().st_size


def test_a_consumer_with_only_tokenizer_json_and_the_graph_gets_the_same_probabilities(exported, demo_data):
    """What a user in another language does: Hugging Face tokenizers + ONNX Runtime, no seqclf."""
    directory, _ = exported
    texts = [*demo_data[0][:20], "", "   ", "a word nobody has seen: zyzzyva"]
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    session = onnxruntime.InferenceSession(str(directory / "model.onnx"))
    probabilities = session.run(["probabilities"], {"input_ids": ids, "attention_mask": mask})[0]
    # seqclf refuses blank texts; a text without tokens reads as one <unk>, like an unknown word
    expected = TextClassifier.load(directory).predict_proba([t if t.strip() else "qqqzzzxxx" for t in texts])
    assert np.abs(probabilities - expected).max() <= 1e-4


def test_the_onnx_backend_predicts_like_torch(exported, demo_data):
    directory, _ = exported
    texts = demo_data[0][:100]
    torch_clf = TextClassifier.load(directory)
    onnx_clf = TextClassifier.load(directory, backend="onnx")
    assert onnx_clf.backend == BackendConfig("onnx")
    assert np.abs(onnx_clf.predict_proba(texts) - torch_clf.predict_proba(texts)).max() <= 1e-4
    assert onnx_clf.predict(texts) == torch_clf.predict(texts)
    onnx_report, torch_report = (clf.evaluate(texts, demo_data[1][:100]) for clf in (onnx_clf, torch_clf))
    onnx_calibration, torch_calibration = onnx_report.pop("calibration"), torch_report.pop("calibration")
    assert onnx_report == torch_report  # counts and the metrics made of them: the same predictions
    assert onnx_calibration["expected_calibration_error"] == pytest.approx(
        torch_calibration["expected_calibration_error"], abs=1e-4)  # made of probabilities, equal within 1e-4
    assert onnx_clf.trace(texts[0]).to_dict() == torch_clf.trace(texts[0]).to_dict()  # the trace shows PyTorch's stages


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_int8_backends_stay_close_to_float32(exported, demo_data, backend):
    directory, reports = exported
    texts = demo_data[0][:100]
    reference = TextClassifier.load(directory).predict_proba(texts)
    quantized = TextClassifier.load(directory, backend=backend, quantize="int8")
    probabilities = quantized.predict_proba(texts)
    assert probabilities.shape == reference.shape and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert np.abs(probabilities - reference).max() < 0.05
    assert reports["int8"].quantization == "int8" and reports["int8"].fp32_bytes == reports[None].bytes


def test_a_graph_of_other_weights_is_refused(exported, tmp_path, demo_data):
    directory, _ = exported
    other = TextClassifier(**{**TINY, "seed": 1}).fit(*demo_data).save(tmp_path / "other")
    shutil.copy(directory / "model.onnx", other / "model.onnx")
    with pytest.raises(ModelDirError, match="exported from other weights"):
        TextClassifier.load(other, backend="onnx", onnx_file=other / "model.onnx").engine


def test_asking_for_int8_from_a_float_graph_is_refused(exported):
    directory, _ = exported
    with pytest.raises(ConfigError, match="holds a float32 graph, not int8"):
        TextClassifier.load(directory, backend="onnx", quantize="int8", onnx_file=directory / "model.onnx").engine


def test_an_encoder_that_cannot_be_exported_fails_clearly_and_writes_nothing(demo_data, tmp_path):
    clf = TextClassifier(**{**TINY, "encoder": "rnn"}).fit(*demo_data)
    with pytest.raises(ExportError, match="rnn encoder cannot be exported.*gru"):
        clf.export_onnx(tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_exporter_failure_is_a_clear_error_and_writes_nothing(fitted, tmp_path, monkeypatch):
    def broken_exporter(*args, **kwargs):
        raise RuntimeError("Unsupported operator aten::something\nlong details")

    monkeypatch.setattr(torch.onnx, "export", broken_exporter)
    with pytest.raises(ExportError, match="lstm encoder could not be exported to ONNX: Unsupported operator"):
        fitted.export_onnx(tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_graph_that_does_not_reproduce_the_model_is_not_written(fitted, tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_export, "PARITY_TOLERANCE", -1.0)  # no graph can pass: the check must refuse it
    (tmp_path / "model.onnx").write_bytes(b"the previous file")
    with pytest.raises(ExportError, match="does not reproduce the model"):
        fitted.export_onnx(tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").read_bytes() == b"the previous file"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no staging file left


def test_serving_on_the_onnx_backend(exported, demo_data):
    directory, _ = exported
    with TestClient(create_app(directory, backend=BackendConfig("onnx", "int8"))) as client:
        assert client.get("/health").json()["backend"] == "ONNX Runtime int8"
        predictions = client.post("/v1/predict", json={"texts": demo_data[0][:4]}).json()["predictions"]
    assert [p["label"] for p in predictions] == TextClassifier.load(directory, "onnx", "int8").predict(demo_data[0][:4])


def test_an_ensemble_with_ngram_evidence_is_one_graph_that_reproduces_it(demo_data, tmp_path):
    texts, labels = demo_data
    clf = TextClassifier(**{**TINY, "ensemble": 2, "ngram_evidence": True, "encoder": "gru"}).fit(texts, labels)
    directory = clf.save(tmp_path / "ensemble")
    report = TextClassifier.load(directory).export_onnx()
    assert report.path == directory / "model.onnx" and report.parity_error < 1e-5
    onnx_clf = TextClassifier.load(directory, backend="onnx")
    probe = texts[:200]
    assert np.abs(onnx_clf.predict_proba(probe) - clf.predict_proba(probe)).max() < 1e-5
    assert onnx_clf.predict(probe) == clf.predict(probe)
    int8 = TextClassifier.load(directory).export_onnx(quantize="int8")
    quantized = TextClassifier.load(directory, backend="onnx", quantize="int8")
    agreement = np.mean(np.array(quantized.predict(probe)) == np.array(clf.predict(probe)))
    assert int8.bytes < report.bytes and agreement >= 0.9


def test_an_ensemble_of_recipes_is_one_graph_that_reproduces_it(demo_data, tmp_path):
    texts, labels = demo_data
    clf = TextClassifier(**{**TINY, "pooling": "max", "ensemble": "gru,cnn,bag", "ngram_evidence": True}).fit(
        texts, labels)
    directory = clf.save(tmp_path / "mixed")
    report = TextClassifier.load(directory).export_onnx()
    assert report.parity_error < 1e-5
    probe = texts[:200]
    onnx_clf = TextClassifier.load(directory, backend="onnx")
    assert np.abs(onnx_clf.predict_proba(probe) - clf.predict_proba(probe)).max() < 1e-5
