"""The training report as it runs (`seqclf train`, `seqclf tune`, `seqclf demo`, `TextClassifier.fit`): the
data read, the epochs, the phases between them, a row of the training trace per epoch, the chart at the
end, and a search's trials as a table.

In a terminal (and in a Jupyter notebook with ipywidgets: a widget) an epoch is one live line (`epoch 5/10 · model 2/3 · 155/217 batches · 2,310 texts/s · loss
0.2098 · ETA 0:00:41`). In a file or a pipe the same facts are plain lines: one when an epoch has run
`QUIET_AT_MOST` seconds since the last line, never a control character. A phase outside the epochs (the
n-gram evidence, calibration, saving...) is named once it has run `ANNOUNCE_AFTER` seconds, then said
again every `QUIET_AT_MOST` seconds while it lasts, so that a log never goes quiet for longer.
"""
from __future__ import annotations

import importlib.util
import time
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from seqclf.console import LiteralConsole, emphasized, print_data
from seqclf.phase_watch import QUIET_AT_MOST, PhaseWatch, clock
from seqclf.report_text import PHASE_WORDS, event_lines
from seqclf.training.events import DataEncoded, MemberStarted, PhaseStarted, RunEvent, RunReport, TrialFinished
from seqclf.training.history import TRACE_COLUMNS, EpochRecord, History, trace_row

if TYPE_CHECKING:
    from seqclf.training.trainer import Progress as TrainingProgress

_WIDTHS = (7, 11, 10, 11, 10, 8, 10)
REDRAW_EVERY = 0.1  # seconds between two updates of a terminal's live line (Rich draws it 10 times a second)


def _line(cells: tuple[str, ...]) -> str:
    return "".join(f"{cell:>{width}}" for cell, width in zip(cells, _WIDTHS))


def _live(console: LiteralConsole) -> bool:
    """Whether a line can be redrawn in place: a terminal, or a notebook with its widgets (ipywidgets)."""
    if console.is_jupyter:
        return importlib.util.find_spec("ipywidgets") is not None
    return console.is_terminal


def python_report() -> ConsoleReport:
    """What `TextClassifier.fit` shows: the same report on the standard output, a notebook cell's in Jupyter."""
    return ConsoleReport(LiteralConsole())


class ConsoleReport(RunReport):
    """A run as the console shows it (see the module's notes); `interruption()` says where a stopped run stood."""

    def __init__(self, console: LiteralConsole, title: Text = emphasized("training trace")) -> None:
        self.console, self.title = console, title
        self.progress: Progress | None = None
        self.plan: MemberStarted | None = None
        self.epoch = self.steps = self.step = 0
        self.epoch_started = self.last_line = 0.0
        self.checkpoint: tuple[int, int] | None = None  # (epoch, step) a resume would start from
        self.records: list[EpochRecord] = []  # every member's epochs, for the one chart of the run
        self._phase: PhaseWatch | None = None
        self.title_shown = self.header_shown = self.trials_shown = False

    # -- events -----------------------------------------------------------------------------------

    def on_event(self, event: RunEvent) -> None:
        self._end_phase()
        if isinstance(event, PhaseStarted):
            if event.phase in PHASE_WORDS:
                self._phase = PhaseWatch(self.console, PHASE_WORDS[event.phase], event.progress)
        elif isinstance(event, DataEncoded):
            print_data(self.console, event.data)
        elif isinstance(event, MemberStarted):
            self._member(event)
        elif isinstance(event, TrialFinished):
            self._trial(event)
        else:
            for line in event_lines(event):
                self.console.print(line)

    def _end_phase(self) -> None:
        if self._phase is not None:
            self._phase.end()
            self._phase = None

    def close(self) -> None:
        """Stop every live line and watch (the run ended, or was stopped)."""
        self._end_phase()
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _member(self, event: MemberStarted) -> None:
        self.plan = event
        if event.members > 1:
            if event.member:
                self.console.print()
            recipe = f"{event.recipe}, " if event.recipe else ""
            self.console.print(emphasized(f"sequence model {event.member + 1} of {event.members}",
                                          f" ({recipe}seed {event.seed})"))
            self.header_shown = False

    def _trial(self, row: TrialFinished) -> None:
        if not self.trials_shown:
            self.console.print(emphasized("search", " (validation figure of each trial; * the best so far)"))
            self.console.print(f"{'trial':>6} {'state':<9}{'value':>8}{'epochs':>8}{'seconds':>9}  settings", style="bold")
            self.trials_shown = True
        value = "-" if row.value is None else f"{row.value:.4f}"
        settings = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.settings.items())
        self.console.print(f"{row.number:>4}{' *' if row.best else '  '} {row.state:<9}{value:>8}{row.epochs:>8}"
                           f"{row.seconds:>9.1f}  {settings}")

    # -- the epochs -------------------------------------------------------------------------------

    def _header(self) -> None:
        if not self.title_shown:
            self.console.print(self.title)
            self.title_shown = True
        if not self.header_shown:
            self.console.print(_line(TRACE_COLUMNS), style="bold")
            self.header_shown = True

    def on_resume(self, progress: TrainingProgress) -> None:
        self._header()
        self.console.print(f"resuming from the checkpoint: epoch {progress.epoch}, after step {progress.step} "
                           f"(the epochs before it as they were recorded)")
        records = progress.history.records
        for i, record in enumerate(records):  # each marked as it was: the best of the epochs up to it
            self.console.print(_line(trace_row(record, best=History(records[: i + 1]).best_epoch == record.epoch)))

    def _where(self) -> str:
        epochs = f"/{self.plan.epochs}" if self.plan else ""
        model = f" · model {self.plan.member + 1}/{self.plan.members}" if self.plan and self.plan.members > 1 else ""
        return f"epoch {self.epoch}{epochs}{model}"

    def on_epoch_begin(self, epoch: int, steps: int) -> None:
        self._end_phase()
        self._header()
        self.epoch, self.steps, self.step = epoch, steps, 0
        self.epoch_started = self.last_line = time.monotonic()
        if not _live(self.console):
            return
        self.progress = Progress(
            TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
            TextColumn("batches · {task.fields[rate]} texts/s · loss {task.fields[loss]} · ETA", markup=False),
            TimeRemainingColumn(), console=self.console, transient=True)
        self.progress.start()
        self.progress.add_task(self._where(), total=steps, loss="-", rate="-")

    def on_step_end(self, step: int, loss: float) -> None:
        self.step = step
        now = time.monotonic()
        if now - self.last_line < (REDRAW_EVERY if self.progress is not None else QUIET_AT_MOST):
            return  # a step can take less than a millisecond: redrawing at each would slow training by 10%
        self.last_line = now
        per_batch = self.plan.examples / max(self.steps, 1) if self.plan else 0.0
        rate = f"{step * per_batch / max(now - self.epoch_started, 1e-9):,.0f}" if per_batch else "-"
        if self.progress is not None:
            self.progress.update(self.progress.task_ids[0], completed=step, loss=f"{loss:.4f}", rate=rate)
        else:
            left = (now - self.epoch_started) / step * (self.steps - step)
            self.console.print(f"{self._where()}: {step}/{self.steps} batches, {rate} texts/s, loss {loss:.4f}, "
                               f"ETA {clock(left)}")

    def on_checkpoint(self, progress: TrainingProgress) -> None:
        self.checkpoint = (progress.epoch, progress.step)

    def on_epoch_end(self, record: EpochRecord, history: History) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        self.console.print(_line(trace_row(record, best=history.best_epoch == record.epoch)))

    def on_train_end(self, history: History) -> None:
        self.records += [record for record in history.records if record not in self.records]
        if self.plan is not None and self.plan.member + 1 < self.plan.members:
            return  # an ensemble: one chart, after its last model
        self.console.print()
        self.console.print(History(self.records).ascii_chart())
        self.console.print(f"best epoch: {history.best_epoch} (its weights are kept)")

    def interruption(self) -> tuple[int, int, tuple[int, int] | None]:
        """(epoch, step) where the run stopped, and the (epoch, step) its last checkpoint resumes from."""
        self.close()
        return self.epoch, self.step, self.checkpoint
