"""Temperature scaling: the fitted T is the likelihood's optimum, bounded, and kept only when it helps."""
import pytest
import torch
from torch import nn

from seqclf.report_text import calibration_text
from seqclf.training.calibration import MAX_TEMPERATURE, calibrate, fit_temperature


def overconfident(n=4000, classes=3, scale=4.0, seed=0):
    """Logits whose true temperature is `scale`: labels drawn from softmax(logits / scale)."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, classes, generator=generator) * 3
    targets = torch.multinomial(torch.softmax(logits / scale, dim=1), 1, generator=generator).squeeze(1)
    return logits, targets


def test_the_fitted_temperature_minimizes_the_loss():
    logits, targets = overconfident()
    t = fit_temperature(logits, targets)
    assert t == pytest.approx(4.0, rel=0.15)
    best = float(nn.functional.cross_entropy(logits / t, targets))
    for other in (t * 0.9, t * 1.1, 1.0):
        assert float(nn.functional.cross_entropy(logits / other, targets)) >= best


def test_overconfident_logits_are_calibrated_and_the_argmax_stays():
    logits, targets = overconfident()
    result = calibrate(logits, targets)
    assert result.kept and result.ece_after < result.ece_before and result.used == result.temperature
    assert torch.equal((logits / result.used).argmax(1), logits.argmax(1))
    assert calibration_text(result).endswith("(kept)")


def test_a_temperature_that_does_not_lower_the_error_is_not_kept():
    logits, targets = overconfident(scale=1.0, n=200, seed=3)  # calibrated already: the ECE is noise
    result = calibrate(logits, targets)
    assert result.kept == (result.ece_after < result.ece_before)
    if not result.kept:
        assert result.used == 1.0 and "not kept" in calibration_text(result)


def test_the_temperature_is_bounded():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0]] * 50)
    targets = torch.tensor([1, 0] * 50)  # always wrong: the likelihood wants T -> infinity
    assert fit_temperature(logits, targets) == pytest.approx(MAX_TEMPERATURE)
    assert fit_temperature(logits, 1 - targets) == pytest.approx(1 / MAX_TEMPERATURE)  # always right: T -> 0
