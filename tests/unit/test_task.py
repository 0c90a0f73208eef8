"""The task object: the one place single-label and multi-label models differ (activation on arrays and
tensors, targets, decision, answers, thresholds, metrics, what it allows)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from seqclf.errors import ConfigError, DataError
from seqclf.nn.classifier import Classifier
from seqclf.task import MULTI_LABEL, SINGLE_LABEL, task_named, task_of

LOGITS = arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(2, 5)),
                elements=st.floats(-30, 30, width=32))


@settings(max_examples=60, deadline=None)
@given(logits=LOGITS, task=st.sampled_from([SINGLE_LABEL, MULTI_LABEL]))
def test_probabilities_are_the_same_on_arrays_and_tensors(logits, task):
    on_tensors = task.activate_tensor(torch.from_numpy(logits)).numpy()
    np.testing.assert_allclose(task.activate(logits), on_tensors, rtol=1e-5, atol=1e-6)
    assert task.probabilities_well_formed(task.activate(logits))
    model = Classifier()
    model.task = task  # the model's activation is the task's
    np.testing.assert_allclose(model.activate(torch.from_numpy(logits)).numpy(), on_tensors)


def test_names_and_choice_from_the_labels():
    assert task_named("multi-label") is MULTI_LABEL and task_of(False) is SINGLE_LABEL
    with pytest.raises(ConfigError, match="unknown task 'regression'"):
        task_named("regression")


def test_targets_class_indices_or_label_sets():
    bounds, ids = np.array([0, 2, 2, 3]), np.array([0, 1, 1])  # texts: {0, 1}, {}, {1}
    np.testing.assert_array_equal(MULTI_LABEL.targets(ids, bounds, 3), [[1, 1, 0], [0, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(SINGLE_LABEL.targets(np.array([2, 0, 1]), np.arange(4), 3), [2, 0, 1])
    MULTI_LABEL.check_data(SINGLE_LABEL, "f")  # one label each: a set of one
    with pytest.raises(DataError, match="holds label sets"):
        SINGLE_LABEL.check_data(MULTI_LABEL, "f")


def test_decision_and_answers():
    probabilities = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], dtype=np.float32)
    classes = ["a", "b", "c"]
    assert SINGLE_LABEL.decide(probabilities, None, classes) == ["b", "a"]
    thresholds = np.array([0.5, 0.25, 0.5])
    assert MULTI_LABEL.decide(probabilities, thresholds, classes) == [["b"], ["a", "b"]]
    single = SINGLE_LABEL.answers(probabilities, None, classes, top_k=2)
    assert single[0] == {"label": "b", "probabilities": {"b": pytest.approx(0.7), "a": pytest.approx(0.2)}}
    multi = MULTI_LABEL.answers(probabilities, thresholds, classes)
    assert multi[1]["labels"] == ["a", "b"] and "note" in multi[1] and "label" not in multi[1]
    assert SINGLE_LABEL.traced_decision(probabilities[0], None, classes) == {}
    assert MULTI_LABEL.traced_decision(probabilities[1], thresholds, classes)["labels"] == ["a", "b"]


def test_thresholds_and_combination_are_checked():
    MULTI_LABEL.check_thresholds((0.5, 0.5), 2)
    with pytest.raises(ConfigError, match="one threshold in"):
        MULTI_LABEL.check_thresholds((0.5,), 2)
    with pytest.raises(ConfigError, match="no thresholds"):
        SINGLE_LABEL.check_thresholds((0.5, 0.5), 2)
    SINGLE_LABEL.check_combinable(sequence_models=3, ngram_evidence=True)
    with pytest.raises(ConfigError, match="one sequence model") as caught:
        MULTI_LABEL.check_combinable(sequence_models=1, ngram_evidence=True)
    assert caught.value.field == "ngram_evidence"


def test_reports_by_task():
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]], dtype=np.float32)
    single = SINGLE_LABEL.report(np.array([0, 1, 1]), probabilities, None, ["a", "b"], errors=5)
    assert single["accuracy"] == pytest.approx(2 / 3) and "calibration" in single
    assert single["errors"] == [{"index": 1, "gold": "b", "predicted": "a", "probability": pytest.approx(0.8)}]
    truth = np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32)
    multi = MULTI_LABEL.report(truth, probabilities, np.array([0.5, 0.5]), ["a", "b"], errors=5)
    assert multi["subset_accuracy"] == pytest.approx(2 / 3) and multi["per_label"]["b"]["threshold"] == 0.5
    assert [e["index"] for e in multi["errors"]] == [1]


def test_loss_per_task():
    logits = torch.tensor([[2.0, -1.0]])
    assert SINGLE_LABEL.loss(0.0, None)(logits, torch.tensor([0])).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, torch.tensor([0])).item())
    assert MULTI_LABEL.loss(0.0, None)(logits, torch.tensor([[1.0, 0.0]])).item() == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([[1.0, 0.0]])).item())
