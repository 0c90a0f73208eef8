"""The training report as the terminal shows it while training runs: the data read, a progress bar per
epoch, a row of the training trace per epoch, the chart at the end, and a search's trials as a live
table (`seqclf train`, `seqclf tune`, `seqclf demo`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from seqclf.console import LiteralConsole, emphasized, print_data
from seqclf.training.history import TRACE_COLUMNS, EpochRecord, History, trace_row
from seqclf.tune import TrialRow, TuneReport

if TYPE_CHECKING:
    from seqclf.data.encoded import EncodedData
    from seqclf.training.distributed import Cluster
    from seqclf.training.trainer import Progress as TrainingProgress

_WIDTHS = (7, 11, 10, 11, 10, 8, 10)


def _line(cells: tuple[str, ...]) -> str:
    return "".join(f"{cell:>{width}}" for cell, width in zip(cells, _WIDTHS))


class ConsoleReport(TuneReport):
    """The data read; a progress bar while an epoch runs; a row of the training trace when it ends; the
    chart at the end; a search's trials as a live table."""

    def __init__(self, console: LiteralConsole, title: Text = emphasized("training trace")) -> None:
        self.console, self.title = console, title
        self.progress: Progress | None = None
        self.task = None
        self.title_shown = self.header_shown = self.trials_shown = False

    def on_cluster(self, cluster: Cluster, batch_size: int) -> None:
        if cluster.distributed:
            self.console.print(f"distributed: {cluster.world_size} processes ({cluster.backend} on "
                               f"{cluster.device.type}), batch {batch_size} shared among them")

    def on_data(self, data: EncodedData) -> None:
        print_data(self.console, data)

    def on_member(self, member: int, members: int, seed: int) -> None:
        if members > 1:
            if member:
                self.console.print()
            self.console.print(emphasized(f"sequence model {member + 1} of {members}", f" (seed {seed})"))
            self.header_shown = False

    def on_combined(self, summary: str) -> None:
        self.console.print(summary)

    def on_calibrated(self, summary: str) -> None:
        self.console.print(summary)

    def on_note(self, text: str) -> None:
        self.console.print(text)

    def on_trial(self, row: TrialRow) -> None:
        if not self.trials_shown:
            self.console.print(emphasized("search", " (validation figure of each trial; * the best so far)"))
            self.console.print(f"{'trial':>6} {'state':<9}{'value':>8}{'epochs':>8}{'seconds':>9}  settings", style="bold")
            self.trials_shown = True
        value = "-" if row.value is None else f"{row.value:.4f}"
        settings = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.settings.items())
        self.console.print(f"{row.number:>4}{' *' if row.best else '  '} {row.state:<9}{value:>8}{row.epochs:>8}"
                           f"{row.seconds:>9.1f}  {settings}")

    def _title(self) -> None:
        if not self.title_shown:
            self.console.print(self.title)
            self.title_shown = True

    def _header(self) -> None:
        self._title()
        if not self.header_shown:
            self.console.print(_line(TRACE_COLUMNS), style="bold")
            self.header_shown = True

    def on_resume(self, progress: TrainingProgress) -> None:
        self._title()
        self.console.print(f"resuming from the checkpoint: epoch {progress.epoch}, after step {progress.step} "
                           f"(the epochs before it as they were recorded)")
        self._header()
        history = progress.history
        for record in history.records:
            self.console.print(_line(trace_row(record, best=history.best_epoch == record.epoch)))

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
        self.console.print(_line(trace_row(record, best=history.best_epoch == record.epoch)))

    def on_train_end(self, history: History) -> None:
        self.console.print()
        self.console.print(history.ascii_chart())
        self.console.print(f"best epoch: {history.best_epoch} (its weights are kept)")
