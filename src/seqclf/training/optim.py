"""Optimizers and the learning-rate schedule, from the training settings."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn



class LazyAdam(torch.optim.Optimizer):
    """Adam for sparse gradients that reads and writes only the rows a step touched.

    The same update as torch.optim.SparseAdam, whose step also costs a pass over the whole table
    (about 50 ms for 200,000 x 100 rows on 2 cores, against under 1 ms here).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.coalesce()
                rows, values = grad.indices()[0], grad.values()  # (R,), (R, D)
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                exp_avg = state["exp_avg"].index_select(0, rows).lerp_(values, 1 - beta1)  # (R, D)
                exp_avg_sq = state["exp_avg_sq"].index_select(0, rows).mul_(beta2).addcmul_(values, values,
                                                                                            value=1 - beta2)
                state["exp_avg"].index_copy_(0, rows, exp_avg)
                state["exp_avg_sq"].index_copy_(0, rows, exp_avg_sq)
                step_size = group["lr"] * (1 - beta2 ** state["step"]) ** 0.5 / (1 - beta1 ** state["step"])
                denominator = exp_avg_sq.sqrt_().add_(group["eps"])
                p.index_add_(0, rows, exp_avg.div_(denominator), alpha=-step_size)


class Optimizers:
    """Several optimizers stepped as one: sparse embedding rows and the dense rest."""

    def __init__(self, *optimizers: torch.optim.Optimizer) -> None:
        self.optimizers = optimizers

    @property
    def param_groups(self) -> list[dict]:
        return [group for optimizer in self.optimizers for group in optimizer.param_groups]

    def state_dict(self) -> list[dict]:
        return [optimizer.state_dict() for optimizer in self.optimizers]

    def load_state_dict(self, states: list[dict]) -> None:
        for optimizer, state in zip(self.optimizers, states, strict=True):
            optimizer.load_state_dict(state)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for optimizer in self.optimizers:
            optimizer.step()


def build_optimizer(model: nn.Module, lr: float, weight_decay: float) -> Optimizers:
    """AdamW for dense parameters (fused: several times faster on CPU than the default step).

    Embedding tables with sparse gradients get a lazy Adam that touches only the rows a batch uses,
    instead of a pass over the whole table every step.
    """
    sparse = [m.weight for m in model.modules()
              if isinstance(m, nn.Embedding) and m.sparse and m.weight.requires_grad]  # frozen: not optimized
    dense = [p for p in model.parameters() if p.requires_grad and not any(p is q for q in sparse)]
    optimizers = [torch.optim.AdamW(dense, lr=lr, weight_decay=weight_decay, fused=True)]
    if sparse:
        optimizers.append(LazyAdam(sparse, lr=lr))
    return Optimizers(*optimizers)


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
