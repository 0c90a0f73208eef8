"""Per-label thresholds that maximize F1 on validation data, the global one, and the multi-label metrics
(checked against scikit-learn)."""
import numpy as np
import pytest

from seqclf.metrics import multi_label_report
from seqclf.training.thresholds import UNINFORMED, best_threshold, choose_thresholds


def f1_at(scores, truth, threshold):
    predicted = scores >= threshold
    hits = (predicted & truth).sum()
    return 2 * hits / (predicted.sum() + truth.sum())


@pytest.mark.parametrize("seed", range(20))
def test_the_chosen_threshold_reaches_the_best_f1_of_every_possible_cut(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(60) < 0.3
    truth[0] = True
    scores = np.round(np.clip(truth * 0.3 + rng.random(60) * 0.7, 0, 1), 2)  # ties on purpose
    chosen = best_threshold(scores, truth)
    best_possible = max(f1_at(scores, truth, t) for t in np.unique(scores))
    assert 0 < chosen < 1
    assert f1_at(scores, truth, chosen) == pytest.approx(best_possible)


def test_a_threshold_lies_midway_between_the_scores_it_separates():
    assert best_threshold(np.array([0.9, 0.7, 0.2, 0.1]), np.array([1, 1, 0, 0])) == pytest.approx(0.45)


def test_a_label_without_positive_validation_examples_keeps_one_half():
    assert best_threshold(np.array([0.9, 0.1]), np.array([0, 0])) == UNINFORMED


def test_rules_per_label_global_and_fixed():
    probabilities = np.array([[0.9, 0.2], [0.8, 0.6], [0.3, 0.7], [0.1, 0.1]])
    truth = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    per_label = choose_thresholds(probabilities, truth, "per-label")
    assert per_label == pytest.approx([0.55, 0.4])
    shared = choose_thresholds(probabilities, truth, "global")
    assert shared[0] == shared[1] and f1_at(probabilities.ravel(), truth.ravel() > 0, shared[0]) == 1.0
    assert choose_thresholds(probabilities, truth, 0.3) == [0.3, 0.3]
    assert choose_thresholds(probabilities, None, "per-label") == [UNINFORMED, UNINFORMED]


def test_multi_label_metrics_agree_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    truth, predicted = rng.random((200, 5)) < 0.3, rng.random((200, 5)) < 0.35
    truth[:, 4] = False  # a label that never occurs
    report = multi_label_report(truth, predicted, list("abcde"))
    assert report["micro_f1"] == pytest.approx(metrics.f1_score(truth, predicted, average="micro"))
    assert report["macro_f1"] == pytest.approx(metrics.f1_score(truth, predicted, average="macro", zero_division=0))
    assert report["samples_f1"] == pytest.approx(metrics.f1_score(truth, predicted, average="samples", zero_division=1))
    assert report["hamming_loss"] == pytest.approx(metrics.hamming_loss(truth, predicted))
    assert report["subset_accuracy"] == pytest.approx(metrics.accuracy_score(truth, predicted))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(truth, predicted, zero_division=0)
    for i, name in enumerate("abcde"):
        row = report["per_label"][name]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (precision[i], recall[i], f1[i], support[i]))
