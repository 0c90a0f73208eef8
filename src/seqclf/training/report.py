"""Callbacks that show training on a console: a progress bar per epoch, then one trace row."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from seqclf.training.history import TRACE_COLUMNS, EpochRecord, History, trace_row
from seqclf.training.trainer import Callback
from seqclf.training.trainer import Progress as TrainingProgress

_WIDTHS = (7, 11, 10, 11, 10, 8, 10)


def _line(cells: tuple[str, ...]) -> str:
    return "".join(f"{cell:>{width}}" for cell, width in zip(cells, _WIDTHS))


class ConsoleReport(Callback):
    """Progress bar while an epoch runs; a row of the training trace when it ends; the chart at the end."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task = None
        self.header_shown = False

    def _header(self) -> None:
        if not self.header_shown:
            self.console.print(_line(TRACE_COLUMNS), style="bold", highlight=False)
            self.header_shown = True

    def on_resume(self, progress: TrainingProgress) -> None:
        self.console.print(f"resuming from the checkpoint: epoch {progress.epoch}, after step {progress.step} "
                           f"(the epochs before it as they were recorded)", highlight=False)
        self._header()
        history = progress.history
        for record in history.records:
            self.console.print(_line(trace_row(record, best=history.best_epoch == record.epoch)), highlight=False)

    def on_epoch_begin(self, epoch: int, steps: int) -> None:
        self._header()
        if not self.console.is_terminal:
            return  # a log file gets the trace rows only
        self.progress = Progress(
            TextColumn(f"epoch {epoch}"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(), console=self.console, transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=steps, loss="-")

    def on_step_end(self, step: int, loss: float) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=step, loss=f"{loss:.4f}")

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        self.console.print(_line(trace_row(record, best=history.best_epoch == record.epoch)), highlight=False)

    def on_train_end(self, history: History) -> None:
        self.console.print()
        self.console.print(history.ascii_chart(), highlight=False)
        self.console.print(f"best epoch: {history.best_epoch} (its weights are kept)", highlight=False)
