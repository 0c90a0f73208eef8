"""The optimizers, from the training settings (the learning-rate schedule: training/schedules.py)."""
from __future__ import annotations

import torch
from torch import nn


class ParameterGroups:
    """What the trainer, the gradient scaler and checkpoints use of an optimizer: `param_groups` (one
    group: the parameters and their settings), per-parameter `state`, `zero_grad`, and `state_dict` /
    `load_state_dict` in torch.optim's layout.

    Not torch.optim.Optimizer: making one imports TorchDynamo (its methods are wrapped to keep the
    compiler out), 1.3-1.6 s of every training process on 2 cores, for a compiler seqclf never uses.
    """

    def __init__(self, params, **settings: object) -> None:
        self.param_groups = [{**settings, "params": list(params)}]
        self.state: dict[torch.Tensor, dict] = {}

    def parameters(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def state_dict(self) -> dict:
        """Parameters as their positions, as torch.optim writes it."""
        index = {id(p): i for i, p in enumerate(self.parameters())}
        return {"state": {index[id(p)]: dict(state) for p, state in self.state.items()},
                "param_groups": [{**{k: v for k, v in group.items() if k != "params"},
                                  "params": [index[id(p)] for p in group["params"]]} for group in self.param_groups]}

    def load_state_dict(self, saved: dict) -> None:
        parameters = self.parameters()
        for group, saved_group in zip(self.param_groups, saved["param_groups"], strict=True):
            if len(group["params"]) != len(saved_group["params"]):
                raise ValueError("the saved optimizer state is for other parameters")
            group.update({k: v for k, v in saved_group.items() if k != "params"})
        self.state = {}
        for i, state in saved["state"].items():
            p = parameters[int(i)]
            self.state[p] = {k: v.to(p.device) if isinstance(v, torch.Tensor) else v for k, v in state.items()}


class AdamW(ParameterGroups):
    """torch.optim.AdamW(fused=True)'s update, by the same kernel (`torch._fused_adamw_`), so the
    same numbers; see `ParameterGroups` for why it is not torch.optim's class."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    @torch.no_grad()
    def step(self) -> None:
        group = self.param_groups[0]
        params = [p for p in group["params"] if p.grad is not None]
        for p in params:
            if p not in self.state:
                self.state[p] = {"step": torch.zeros((), dtype=torch.float32, device=p.device),
                                 "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                 "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
        for device_params in _by_device_and_dtype(params):
            states = [self.state[p] for p in device_params]
            steps = [state["step"] for state in states]
            torch._foreach_add_(steps, 1)
            beta1, beta2 = group["betas"]
            torch._fused_adamw_(device_params, [p.grad for p in device_params], [s["exp_avg"] for s in states],
                                [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False, lr=group["lr"],
                                beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"],
                                maximize=False)


def _by_device_and_dtype(params: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """The fused kernel takes tensors of one device and dtype at a time."""
    groups: dict[tuple, list[torch.Tensor]] = {}
    for p in params:
        groups.setdefault((p.device, p.dtype), []).append(p)
    return list(groups.values())


class LazyAdam(ParameterGroups):
    """Adam for sparse gradients that reads and writes only the rows a step touched.

    The same update as torch.optim.SparseAdam, whose step also costs a pass over the whole table
    (about 50 ms for 200,000 x 100 rows on 2 cores, against under 1 ms here).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps)

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.coalesce()
                rows, values = grad.indices()[0], grad.values()  # (R,), (R, D)
                state = self.state.setdefault(p, {})
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

    def __init__(self, *optimizers: ParameterGroups) -> None:
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
    """AdamW for dense parameters (the fused kernel: several times faster on CPU than the default step).

    Embedding tables with sparse gradients get a lazy Adam that touches only the rows a batch uses,
    instead of a pass over the whole table every step.
    """
    sparse = [m.weight for m in model.modules()
              if isinstance(m, nn.Embedding) and m.sparse and m.weight.requires_grad]  # frozen: not optimized
    dense = [p for p in model.parameters() if p.requires_grad and not any(p is q for q in sparse)]
    optimizers: list[ParameterGroups] = [AdamW(dense, lr=lr, weight_decay=weight_decay)]
    if sparse:
        optimizers.append(LazyAdam(sparse, lr=lr))
    return Optimizers(*optimizers)
