import numpy as np
import pytest

from seqclf.metrics import calibration, classification_report


def test_report_against_hand_counts():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    report = classification_report(y_true, y_pred, ["a", "b", "c"])
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["per_class"]["a"] == {"precision": 1.0, "recall": pytest.approx(2 / 3), "f1": pytest.approx(0.8),
                                        "support": 3}
    assert report["per_class"]["b"]["precision"] == 0.5 and report["per_class"]["b"]["recall"] == 0.5
    assert report["per_class"]["c"]["f1"] == pytest.approx(2 / 3)
    assert report["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert report["confusion_matrix"]["rows_true_columns_predicted"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_class_never_predicted_has_zero_precision_not_nan():
    report = classification_report(np.array([0, 1]), np.array([0, 0]), ["a", "b"])
    assert report["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_calibration_error_is_the_weighted_gap_between_confidence_and_accuracy():
    # 4 predictions at confidence 0.9, 3 right (accuracy 0.75): gap 0.15, weight 4/6;
    # 2 predictions at confidence 0.6, both right: gap 0.4, weight 2/6.
    probabilities = np.array([[0.9, 0.1]] * 4 + [[0.4, 0.6]] * 2)
    targets = np.array([0, 0, 0, 1, 1, 1])
    result = calibration(probabilities, targets)
    assert result["expected_calibration_error"] == pytest.approx(4 / 6 * 0.15 + 2 / 6 * 0.4)
    assert result["bins"] == 15
    assert [(row["count"], row["accuracy"]) for row in result["reliability"]] == [(2, 1.0), (4, 0.75)]
    assert all(row["lower"] < row["confidence"] <= row["upper"] for row in result["reliability"])


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    probabilities = np.array([[0.5, 0.5]] * 4)  # confidence 0.5; argmax is class 0, right half the time
    assert calibration(probabilities, np.array([0, 1, 0, 1]))["expected_calibration_error"] == pytest.approx(0.0)
    certain = np.eye(3)[[0, 1, 2]]
    assert calibration(certain, np.array([0, 1, 2]))["expected_calibration_error"] == pytest.approx(0.0)
