"""A generic training loop: it knows batches, a loss and an optimizer, not the model or the data.

Progress bars, the printed trace and best-epoch selection are callbacks.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from seqclf.training.history import EpochRecord, History
from seqclf.training.optim import Optimizers


@dataclass
class Batch:
    inputs: tuple[torch.Tensor, ...]  # what the model's forward takes
    targets: torch.Tensor  # (B,) class indices
    tokens: int  # real (unpadded) tokens in the batch, for tokens/s


class Callback:
    """Hooks into the loop; every method is optional. Setting `stop` ends training after the epoch."""

    stop = False

    def on_epoch_begin(self, epoch: int, steps: int) -> None: ...

    def on_step_end(self, step: int, loss: float) -> None: ...

    def on_epoch_end(self, record: EpochRecord, history: History) -> None: ...

    def on_train_end(self, history: History) -> None: ...


class KeepBest(Callback):
    """Remembers the weights of the best epoch so far and puts them back when training ends."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.state: dict[str, torch.Tensor] | None = None

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        if history.best_epoch == record.epoch:
            self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def on_train_end(self, history: History) -> None:
        if self.state is not None:
            self.model.load_state_dict(self.state)


class EarlyStopping(Callback):
    """Stops when validation accuracy has not improved for `patience` epochs."""

    def __init__(self, patience: int) -> None:
        self.patience = patience

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        best = history.best_epoch
        self.stop = best is not None and record.valid_accuracy is not None and record.epoch - best >= self.patience


class ReduceOnPlateau(Callback):
    """Multiplies `scale` by `factor` after each epoch whose validation accuracy is not a new best."""

    def __init__(self, factor: float = 0.5) -> None:
        self.factor = factor
        self.scale = 1.0

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        if record.valid_accuracy is not None and history.best_epoch != record.epoch:
            self.scale *= self.factor


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class Trainer:
    model: nn.Module
    optimizer: Optimizers
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    max_grad_norm: float | None = None
    lr_multiplier: Callable[[int], float] = lambda step: 1.0  # of each group's initial lr, by global step
    callbacks: Sequence[Callback] = ()

    def fit(
        self,
        epochs: int,
        train_batches: Callable[[int], Iterable[Batch]],
        steps_per_epoch: int,
        validate: Callable[[], tuple[float, float]] | None = None,
    ) -> History:
        """Train for `epochs`; `train_batches(epoch)` gives that epoch's batches; `validate()` -> (loss, accuracy)."""
        history = History()
        self._base_lrs = [group["lr"] for group in self.optimizer.param_groups]
        self._global_step = 0
        for epoch in range(1, epochs + 1):
            for callback in self.callbacks:
                callback.on_epoch_begin(epoch, steps_per_epoch)
            record = self._epoch(epoch, train_batches(epoch))
            if validate is not None:
                record.valid_loss, record.valid_accuracy = validate()
            history.records.append(record)
            for callback in self.callbacks:
                callback.on_epoch_end(record, history)
            if any(callback.stop for callback in self.callbacks):
                break
        for callback in self.callbacks:
            callback.on_train_end(history)
        return history

    def _epoch(self, epoch: int, batches: Iterable[Batch]) -> EpochRecord:
        self.model.train()
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        started = time.perf_counter()
        loss_sum, correct = 0.0, torch.zeros((), dtype=torch.int64)
        examples = tokens = 0
        for step, batch in enumerate(batches, start=1):
            logits = self.model(*batch.inputs)  # (B, C)
            loss = self.loss_fn(logits, batch.targets)
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLoss(f"loss is {value} at epoch {epoch}, step {step}")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.max_grad_norm is not None:
                clip_gradients(parameters, self.max_grad_norm)
            multiplier = self.lr_multiplier(self._global_step)
            for group, base in zip(self.optimizer.param_groups, self._base_lrs):
                group["lr"] = base * multiplier
            self.optimizer.step()
            self._global_step += 1
            size = len(batch.targets)
            loss_sum += value * size
            correct += (logits.detach().argmax(dim=1) == batch.targets).sum()
            examples += size
            tokens += batch.tokens
            for callback in self.callbacks:
                callback.on_step_end(step, loss_sum / examples)
        seconds = time.perf_counter() - started
        return EpochRecord(
            epoch=epoch,
            train_loss=loss_sum / max(examples, 1),
            train_accuracy=int(correct) / max(examples, 1),
            valid_loss=None,
            valid_accuracy=None,
            seconds=seconds,
            tokens_per_second=tokens / max(seconds, 1e-9),
            learning_rate=self.optimizer.param_groups[0]["lr"],
        )


def clip_gradients(parameters: list[nn.Parameter], max_norm: float) -> None:
    """Scale gradients down to `max_norm` in total (sparse ones included); unlike clip_grad_norm_,
    no pass over them when they are already within it (most steps)."""
    norms = []
    for p in parameters:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            p.grad = p.grad.coalesce()  # repeated rows are summed before the norm
            norms.append(torch.linalg.vector_norm(p.grad.values()))
        else:
            norms.append(torch.linalg.vector_norm(p.grad))
    total = torch.linalg.vector_norm(torch.stack(norms))
    if total > max_norm:
        scale = max_norm / (float(total) + 1e-6)
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(scale)
