"""The one predictor layer: what every face (Python, command line, HTTP) calls."""
import pytest

from seqclf import DataError, Predictor
from seqclf.api import BadRow
from seqclf.predictor import BackendConfig

from helpers import assert_same_probabilities


@pytest.fixture(scope="module")
def predictor(model_dir):
    return Predictor.from_dir(model_dir)


def test_from_dir_predicts_like_the_classifier_it_was_saved_from(predictor, fitted, demo_data):
    texts = demo_data[0][:20]
    assert_same_probabilities(predictor, fitted, texts)
    assert predictor.predict(texts) == fitted.predict(texts) and predictor.classes == fitted.classes_


def test_describe_is_the_model_as_data(predictor, model_dir):
    description = predictor.describe()
    assert description["name"] == model_dir.name and description["labels"] == predictor.classes
    assert description["format_version"] == 4 and description["backend"] == "torch fp32"
    assert description["fitted"] == predictor.parts.fitted.to_dict() and description["fitted"]["max_len"] == 12
    assert description["config"]["tokenizer"]["max_len"] == 12 and len(description["history"]) == 2
    flow = description["data_flow"]
    assert all(row["shape"][0] == "N" for row in flow["rows"])
    assert flow["summary"].startswith("N x variable -> N x 12 -> N x 12 x 16")


def test_inputs_get_one_result_each_in_order(predictor):
    blank = BadRow("t.txt", 2, "empty text", "  ")
    results = predictor.predict_inputs(["good movie", blank, "bad movie"], top_k=1)
    assert [r is None for r in results] == [False, True, False]
    assert results[0] == predictor.predict_top(["good movie"], top_k=1)[0]
    assert predictor.predict_inputs([blank]) == [None]


def test_top_k_and_empty_inputs(predictor):
    assert [len(r["probabilities"]) for r in predictor.predict_top(["a", "b"], top_k=2)] == [2, 2]
    assert predictor.predict_proba([]).shape == (0, 3)
    with pytest.raises(DataError, match="no texts given"):
        predictor.data_flow([])


def test_the_backend_is_one_checked_object(model_dir):
    assert Predictor.from_dir(model_dir, BackendConfig("torch", "int8")).backend.describe() == "torch int8"
    with pytest.raises(ValueError, match="field 'backend'"):
        BackendConfig("tflite")


def test_export_defaults_into_the_model_directory_and_checks_the_quantization(model_dir, tmp_path):
    from seqclf.api import TextClassifier
    clf = TextClassifier.load(model_dir)
    with pytest.raises(ValueError, match="field 'quantize'"):
        clf.export_onnx(tmp_path / "m.onnx", quantize="int4")
    unsaved = Predictor(clf.predictor.parts)  # no directory: a path must be given
    with pytest.raises(DataError, match="no model directory to export into"):
        unsaved.export_onnx()


def test_evaluate_lists_the_most_confident_mistakes_first(predictor, demo_data):
    texts, labels = demo_data[0][:200], demo_data[1][:200]
    report = predictor.evaluate(texts, labels, errors=5)
    mistakes = report["errors"]
    wrong = round((1 - report["accuracy"]) * report["examples"])
    assert len(mistakes) == min(5, wrong) and mistakes
    probabilities = [m["probability"] for m in mistakes]
    assert probabilities == sorted(probabilities, reverse=True)
    for mistake in mistakes:
        assert mistake["gold"] != mistake["predicted"]
        row = texts.index(mistake["text"])
        assert labels[row] == mistake["gold"] and predictor.predict([mistake["text"]])[0] == mistake["predicted"]
    assert "errors" not in predictor.evaluate(texts, labels)
