"""The one model object: what `fit` and `load` return and every face (Python, command line, HTTP) calls."""
import pytest

from seqclf import DataError, TextClassifier
from seqclf.api import BackendConfig
from seqclf.reading import BadRow

from helpers import assert_same_probabilities


@pytest.fixture(scope="module")
def model(model_dir):
    return TextClassifier.load(model_dir)


def test_from_dir_predicts_like_the_classifier_it_was_saved_from(model, model_dir, fitted, demo_data):
    texts = demo_data[0][:20]
    assert_same_probabilities(TextClassifier.load(model_dir, "torch"), fitted, texts)  # ONNX Runtime: test_default_engine
    assert model.predict(texts) == fitted.predict(texts) and model.classes_ == fitted.classes_


def test_describe_is_the_model_as_data(model, model_dir):
    description = model.describe()
    assert description["name"] == model_dir.name and description["labels"] == model.classes_
    assert description["format_version"] == 4 and description["backend"] == "ONNX Runtime fp32"
    assert description["fitted"] == model.fitted_state.to_dict() and description["fitted"]["max_len"] == 12
    assert description["config"]["tokenizer"]["max_len"] == 12 and len(description["history"]) == 2
    flow = description["data_flow"]
    assert all(row["shape"][0] == "N" for row in flow["rows"])
    assert flow["summary"].startswith("N x variable -> N x 12 -> N x 12 x 16")


def test_inputs_get_one_result_each_in_order(model):
    blank = BadRow("t.txt", 2, "empty text", "  ")
    results = model.predict_inputs(["good movie", blank, "bad movie"], top_k=1)
    assert [r is None for r in results] == [False, True, False]
    assert results[0] == model.predict_top(["good movie"], top_k=1)[0]
    assert model.predict_inputs([blank]) == [None]


def test_top_k_and_empty_inputs(model):
    assert [len(r["probabilities"]) for r in model.predict_top(["a", "b"], top_k=2)] == [2, 2]
    assert model.predict_proba([]).shape == (0, 3)
    with pytest.raises(DataError, match="no texts given"):
        model.data_flow([])


def test_the_backend_is_one_checked_object(model_dir):
    assert TextClassifier.load(model_dir, BackendConfig("torch", "int8")).backend.describe() == "torch int8"
    with pytest.raises(ValueError, match="field 'backend'"):
        BackendConfig("tflite")


def test_export_defaults_into_the_model_directory_and_checks_the_quantization(model_dir, fitted, tmp_path):
    clf = TextClassifier.load(model_dir)
    with pytest.raises(ValueError, match="field 'quantize'"):
        clf.export_onnx(tmp_path / "m.onnx", quantize="int4")
    with pytest.raises(DataError, match="no model directory to export into"):
        fitted.export_onnx()  # fitted in Python, never saved: a path must be given


def test_evaluate_lists_the_most_confident_mistakes_first(model, demo_data):
    texts, labels = demo_data[0][:200], demo_data[1][:200]
    report = model.evaluate(texts, labels, errors=5)
    mistakes = report["errors"]
    wrong = round((1 - report["accuracy"]) * report["examples"])
    assert len(mistakes) == min(5, wrong) and mistakes
    probabilities = [m["probability"] for m in mistakes]
    assert probabilities == sorted(probabilities, reverse=True)
    for mistake in mistakes:
        assert mistake["gold"] != mistake["predicted"]
        row = texts.index(mistake["text"])
        assert labels[row] == mistake["gold"] and model.predict([mistake["text"]])[0] == mistake["predicted"]
    assert "errors" not in model.evaluate(texts, labels)
