import pytest
import torch

from seqclf.training.loss import class_weights


def test_balanced_class_weights_are_inverse_to_frequency():
    weights = class_weights(torch.tensor([0, 0, 0, 1]), 3, "balanced")
    assert weights.tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])
    assert class_weights(torch.tensor([0, 1]), 2, "none") is None
