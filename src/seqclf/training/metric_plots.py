"""Pictures (PNG, matplotlib without a display): of an evaluation report, the confusion matrix and the
reliability diagram; `agg_pyplot` for every picture seqclf draws (the training curves too)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def agg_pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def save_confusion_matrix_png(report: dict, path: Path) -> None:
    """Counts in each cell; the colour is the share of the true class's examples (each row sums to 1)."""
    plt = agg_pyplot()
    labels = report["confusion_matrix"]["labels"]
    counts = np.array(report["confusion_matrix"]["rows_true_columns_predicted"])  # (C, C) true x predicted
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)  # (C, C)
    size = max(3.5, 0.6 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (true, predicted), count in np.ndenumerate(counts):
        axes.text(predicted, true, str(count), ha="center", va="center",
                  color="white" if shares[true, predicted] > 0.5 else "black")
    # class names as written: "$5" and "$10" are prices, not mathtext
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right", parse_math=False)
    axes.set_yticks(range(len(labels)), labels, parse_math=False)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"confusion matrix\naccuracy {report['accuracy']:.4f}")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)


def save_reliability_png(calibration: dict, path: Path) -> None:
    """Each confidence bin's accuracy (bars) against its mean confidence (dots); the diagonal is a
    perfectly calibrated model."""
    plt = agg_pyplot()
    rows = calibration["reliability"]
    figure, axes = plt.subplots(figsize=(4.5, 4.5))
    axes.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    axes.bar([row["lower"] for row in rows], [row["accuracy"] for row in rows], width=1 / calibration["bins"],
             align="edge", edgecolor="black", alpha=0.6, label="accuracy of the bin")
    axes.plot([row["confidence"] for row in rows], [row["accuracy"] for row in rows], "o", color="C1",
              label="mean confidence of the bin")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("confidence (top probability)")
    axes.set_ylabel("accuracy")
    axes.set_title(f"reliability\nexpected calibration error {calibration['expected_calibration_error']:.4f}")
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
