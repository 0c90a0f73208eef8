"""The learning-rate schedules by name: the learning rate at each step, as a fraction of lr.

Plain Python: the settings validate against `SCHEDULES` without importing PyTorch.
"""
from __future__ import annotations

from collections.abc import Callable


def _constant(step: int, warm: int, total: int) -> float:
    return 1.0


def _linear(step: int, warm: int, total: int) -> float:
    """Falling to 1/total at the last step."""
    return 1.0 - (step - warm) / (total - warm)


# The learning rate after warm-up, as a fraction of lr. `plateau` is constant here: `ReduceOnPlateau`
# (training/trainer.py) scales it between epochs.
SCHEDULES: dict[str, Callable[[int, int, int], float]] = {"constant": _constant, "linear": _linear,
                                                          "plateau": _constant}


def lr_multiplier(schedule: str, warmup: float, total_steps: int) -> Callable[[int], float]:
    """Learning rate at a step, as a fraction of lr: a linear warm-up over `warmup` of the steps, then
    the schedule."""
    warm, after = int(warmup * total_steps), SCHEDULES[schedule]

    def multiplier(step: int) -> float:
        return (step + 1) / warm if step < warm else after(step, warm, total_steps)

    return multiplier
