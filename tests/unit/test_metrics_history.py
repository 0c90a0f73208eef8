import numpy as np
import pytest

from seqclf.training.history import EpochRecord, History
from seqclf.training.metrics import classification_report


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


def record(epoch, train_loss, valid_loss=None, valid_accuracy=None):
    return EpochRecord(epoch, train_loss, 0.5, valid_loss, valid_accuracy, 1.0, 1000.0, 1e-3)


def test_best_epoch_by_validation_accuracy_then_loss():
    history = History([record(1, 1.0, 0.9, 0.6), record(2, 0.8, 0.7, 0.7), record(3, 0.5, 0.6, 0.7), record(4, 0.4, 0.9, 0.65)])
    assert history.best_epoch == 3
    assert History([record(1, 1.0), record(2, 0.5)]).best_epoch == 2
    assert History().best_epoch is None


def test_jsonl_round_trip_and_ascii_chart(tmp_path):
    history = History([record(1, 1.0, 0.9, 0.6), record(2, 0.5, 0.7, 0.7), record(3, 0.2, 0.6, 0.8)])
    assert History.from_jsonl(history.to_jsonl()) == history
    chart = history.ascii_chart(height=6)
    lines = chart.splitlines()
    assert "* train" in lines[0] and "o validation" in lines[0]
    assert lines[1].startswith(" 1.0000 |")  # the highest loss on the top row
    assert "*" in lines[1] and "*" in lines[6]  # train loss falls from the top row to the bottom row
    history.save_png(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
