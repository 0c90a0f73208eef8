"""A generic training loop: it knows batches, a loss and an optimizer, not the model or the data.

Progress bars, the printed trace and best-epoch selection are callbacks.
"""
from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from seqclf.errors import SeqclfError
from seqclf.training.history import EpochRecord, History
from seqclf.training.loss import count_correct
from seqclf.training.optim import Optimizers


@dataclass
class Batch:
    inputs: tuple[torch.Tensor, ...]  # what the model's forward takes
    targets: torch.Tensor  # (B,) class indices, or (B, C) 0/1 label sets
    tokens: int  # real (unpadded) tokens in the batch, for tokens/s


class Callback:
    """Hooks into the loop; every method is optional. Setting `stop` ends training after the epoch."""

    stop = False

    def on_epoch_begin(self, epoch: int, steps: int) -> None: ...

    def on_step_end(self, step: int, loss: float) -> None: ...

    def on_epoch_end(self, record: EpochRecord, history: History) -> None: ...

    def on_train_end(self, history: History) -> None: ...

    def on_resume(self, progress: Progress) -> None: ...

    def on_checkpoint(self, progress: Progress) -> None:
        """A resume checkpoint was written: `progress` is where a resumed run starts (epoch, step)."""


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

    def on_resume(self, progress: Progress) -> None:
        if progress.history.records:
            self.on_epoch_end(progress.history.records[-1], progress.history)


class ReduceOnPlateau(Callback):
    """Multiplies `scale` by `factor` after each epoch whose validation accuracy is not a new best."""

    def __init__(self, factor: float = 0.5) -> None:
        self.factor = factor
        self.scale = 1.0

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        if record.valid_accuracy is not None and history.best_epoch != record.epoch:
            self.scale *= self.factor


class NonFiniteLoss(SeqclfError):
    """The loss became NaN or infinite."""


@dataclass
class Progress:
    """Where training stands; with the model, optimizer and sampler states, enough to continue exactly."""

    epoch: int = 1  # the epoch in progress (or about to start)
    step: int = 0  # its batches already done
    global_step: int = 0
    loss_sum: float = 0.0  # sums over the epoch's batches so far
    correct: int = 0
    examples: int = 0
    tokens: int = 0
    seconds: float = 0.0
    history: History = field(default_factory=History)


@dataclass
class Trainer:
    model: nn.Module
    optimizer: Optimizers
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    max_grad_norm: float | None = None
    lr_multiplier: Callable[[int], float] = lambda step: 1.0  # of each group's initial lr, by global step
    callbacks: Sequence[Callback] = ()
    # called after an epoch once `checkpoint_seconds` have passed since the last call (0: every epoch: writing
    # a large model's checkpoint can take longer than a short epoch), and every `checkpoint_every` steps
    checkpoint: Callable[[Progress], None] | None = None
    checkpoint_every: int | None = None
    checkpoint_seconds: float = 0.0
    # Element-wise sums over all processes of a distributed run (the epoch's loss, accuracy and tokens are global).
    sum_over_processes: Callable[[list[float]], list[float]] = list
    # Called after each backward pass (a distributed run averages the sparse gradients there).
    after_backward: Callable[[], None] = lambda: None
    autocast_dtype: torch.dtype | None = None  # mixed precision on CUDA: torch.bfloat16 or torch.float16
    # (logits, targets) -> examples predicted right, for the training accuracy
    count_correct: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = count_correct

    def fit(
        self,
        epochs: int,
        train_batches: Callable[[int], Iterable[Batch]],
        steps_per_epoch: int,
        validate: Callable[[], tuple[float, float]] | None = None,
        progress: Progress | None = None,
    ) -> History:
        """Train for `epochs`; `train_batches(epoch)` gives that epoch's batches; `validate()` -> (loss, accuracy).

        With `progress` (from a checkpoint), training continues where it stopped: the epoch's first
        `progress.step` batches are skipped, so `train_batches` must give the same batches again."""
        progress = progress or Progress()
        history = progress.history
        self._base_lrs = [group["initial_lr"] if "initial_lr" in group else group["lr"]
                          for group in self.optimizer.param_groups]
        for group, base in zip(self.optimizer.param_groups, self._base_lrs):
            group["initial_lr"] = base
        # fp16 gradients can underflow: scale the loss up, and the gradients back down before stepping;
        # one scaler for the run, so the scale it has learned carries over from epoch to epoch
        device = next(self.model.parameters()).device
        self._scaler = torch.amp.GradScaler(device.type) if self.autocast_dtype == torch.float16 else None
        stopped = any(callback.stop for callback in self.callbacks)
        self._checkpointed = time.monotonic()
        while progress.epoch <= epochs and not stopped:
            for callback in self.callbacks:
                callback.on_epoch_begin(progress.epoch, steps_per_epoch)
            record = self._epoch(progress, train_batches(progress.epoch))
            if validate is not None:
                record.valid_loss, record.valid_accuracy = validate()
            history.records.append(record)
            for callback in self.callbacks:
                callback.on_epoch_end(record, history)
            progress = Progress(epoch=progress.epoch + 1, global_step=progress.global_step, history=history)
            if time.monotonic() - self._checkpointed >= self.checkpoint_seconds:
                self._save_checkpoint(progress)
            stopped = any(callback.stop for callback in self.callbacks)
        for callback in self.callbacks:
            callback.on_train_end(history)
        return history

    def _save_checkpoint(self, progress: Progress) -> None:
        if self.checkpoint is not None:
            self.checkpoint(progress)
            self._checkpointed = time.monotonic()
            for callback in self.callbacks:
                callback.on_checkpoint(progress)

    def _epoch(self, progress: Progress, batches: Iterable[Batch]) -> EpochRecord:
        self.model.train()
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        device, scaler = parameters[0].device, self._scaler
        started = time.perf_counter() - progress.seconds
        correct = torch.tensor(progress.correct, dtype=torch.int64, device=device)
        for batch in itertools.islice(batches, progress.step, None):
            with torch.autocast(device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
                logits = self.model(*batch.inputs)  # (B, C)
                loss = self.loss_fn(logits, batch.targets)
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLoss(f"the training loss became {value} at epoch {progress.epoch}, step "
                                    f"{progress.step + 1}; training stopped",
                                    hint="lower --lr, keep --max-grad-norm on, or check the data; "
                                         "the last checkpoint is kept")
            self.optimizer.zero_grad(set_to_none=True)
            (scaler.scale(loss) if scaler else loss).backward()
            self.after_backward()
            if scaler:
                scaler.unscale_(self.optimizer)
            if self.max_grad_norm is not None:
                clip_gradients(parameters, self.max_grad_norm)
            multiplier = self.lr_multiplier(progress.global_step)
            for group, base in zip(self.optimizer.param_groups, self._base_lrs):
                group["lr"] = base * multiplier
            if scaler:
                scaler.step(self.optimizer)  # skipped when the scaled gradients overflowed
                scaler.update()
            else:
                self.optimizer.step()
            size = len(batch.targets)
            correct += self.count_correct(logits.detach(), batch.targets)
            progress.step += 1
            progress.global_step += 1
            progress.loss_sum += value * size
            progress.examples += size
            progress.tokens += batch.tokens
            for callback in self.callbacks:
                callback.on_step_end(progress.step, progress.loss_sum / progress.examples)
            if self.checkpoint is not None and self.checkpoint_every and progress.global_step % self.checkpoint_every == 0:
                progress.correct, progress.seconds = int(correct), time.perf_counter() - started
                self._save_checkpoint(progress)
        seconds = time.perf_counter() - started
        loss_sum, correct_total, examples, tokens = self.sum_over_processes(
            [progress.loss_sum, int(correct), progress.examples, progress.tokens])
        return EpochRecord(
            epoch=progress.epoch,
            train_loss=loss_sum / max(examples, 1),
            train_accuracy=correct_total / max(examples, 1),
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
