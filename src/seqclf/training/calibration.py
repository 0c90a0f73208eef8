"""Temperature scaling (Guo et al. 2017): one number T that divides the logits before softmax, fitted
on validation data by minimizing the negative log-likelihood. Argmax is unchanged (accuracy too); the
probabilities become less (T > 1) or more (T < 1) confident. Kept only if it lowers the validation
expected calibration error, as Ludwig does.

T is bounded to [1/MAX_TEMPERATURE, MAX_TEMPERATURE]: far beyond, the logits' differences shrink
below float32's resolution and the argmax could flip on rounding (a barely trained model fitted
T = 86,000, every probability 0.3333).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from seqclf.metrics import calibration

MAX_TEMPERATURE = 10.0


@dataclass(frozen=True)
class Calibration:
    temperature: float  # the fitted value
    ece_before: float  # validation expected calibration error at T = 1
    ece_after: float  # ... at the fitted T
    kept: bool  # ece_after < ece_before: the model uses `temperature`, else 1

    @property
    def used(self) -> float:
        return self.temperature if self.kept else 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The T in [1/MAX_TEMPERATURE, MAX_TEMPERATURE] that minimizes the cross-entropy of (N, C) logits / T
    against (N,) class indices. The loss is convex in 1/T, so it has one minimum along log T: a golden-section
    search finds it (to 1e-6 in log T) without an optimizer (torch.optim's import TorchDynamo: a second
    of every training process)."""
    logits, targets = logits.detach().double().cpu(), targets.cpu()

    def loss(log_t: float) -> float:
        return float(nn.functional.cross_entropy(logits / math.exp(log_t), targets))

    low, high = -math.log(MAX_TEMPERATURE), math.log(MAX_TEMPERATURE)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    while high - low > 1e-6:
        if loss_a <= loss_b:  # the minimum is in [low, b]
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:  # in [a, high]
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2)


def calibrate(logits: torch.Tensor, targets: torch.Tensor) -> Calibration:
    """Fit T on (N, C) validation logits and compare the expected calibration error before and after."""
    temperature = fit_temperature(logits, targets)
    labels = targets.cpu().numpy()

    def ece(t: float) -> float:
        probabilities = torch.softmax(logits.detach().double().cpu() / t, dim=1).numpy()
        return calibration(probabilities, labels)["expected_calibration_error"]

    before, after = ece(1.0), ece(temperature)
    return Calibration(temperature, before, after, after < before)
