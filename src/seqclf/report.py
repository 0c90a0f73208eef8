"""The training report as the terminal shows it while training runs: the data read, a progress bar per
epoch, a row of the training trace per epoch, the chart at the end, and a search's trials as a live
table (`seqclf train`, `seqclf tune`, `seqclf demo`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from seqclf.console import LiteralConsole, emphasized, print_data
from seqclf.training.history import TRACE_COLUMNS, EpochRecord, History, trace_row
from seqclf.training.events import (Calibrated, ClusterJoined, Combined, DataEncoded, LabelSetsFound, LongTexts,
                                     MemberStarted, RunEvent, RunReport, ThresholdsChosen, TrialFinished)

if TYPE_CHECKING:
    from seqclf.training.calibration import Calibration
    from seqclf.training.trainer import Progress as TrainingProgress

_WIDTHS = (7, 11, 10, 11, 10, 8, 10)


def _line(cells: tuple[str, ...]) -> str:
    return "".join(f"{cell:>{width}}" for cell, width in zip(cells, _WIDTHS))


class ConsoleReport(RunReport):
    """The data read; a progress bar while an epoch runs; a row of the training trace when it ends; the
    chart at the end; a search's trials as a live table."""

    def __init__(self, console: LiteralConsole, title: Text = emphasized("training trace")) -> None:
        self.console, self.title = console, title
        self.progress: Progress | None = None
        self.task = None
        self.title_shown = self.header_shown = self.trials_shown = False

    def on_event(self, event: RunEvent) -> None:
        if isinstance(event, DataEncoded):
            print_data(self.console, event.data)
        elif isinstance(event, MemberStarted):
            self._member(event)
        elif isinstance(event, TrialFinished):
            self._trial(event)
        else:
            for line in event_lines(event):
                self.console.print(line)

    def _member(self, event: MemberStarted) -> None:
        if event.members > 1:
            if event.member:
                self.console.print()
            self.console.print(emphasized(f"sequence model {event.member + 1} of {event.members}",
                                          f" (seed {event.seed})"))
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


def event_lines(event: RunEvent) -> list[str]:
    """What the terminal says of a run's event: the sentences of the faces, from the data of the engines."""
    if isinstance(event, ClusterJoined):
        cluster = event.cluster
        return [f"distributed: {cluster.world_size} processes ({cluster.backend} on {cluster.device.type}), batch "
                f"{event.batch_size} shared among them"] if cluster.distributed else []
    if isinstance(event, LabelSetsFound):
        detected = [] if event.detected is None else [
            f"multi-label: {event.detected}, so every text has a set of labels; training a sigmoid per label (pass "
            "--multi-label to say so, --label-separator for csv and tsv label fields)"]
        return [*detected, "multi-label: the trace's acc columns are subset accuracy (every label of a text right, "
                           "at probability 0.5); thresholds are chosen after training"]
    if isinstance(event, LongTexts):
        return [long_texts_text(event)]
    if isinstance(event, Combined):
        shares = ", ".join(f"{source} {weight:.2f}" for source, weight in zip(event.sources, event.weights))
        scored = "" if event.validation_accuracy is None else f"; validation accuracy {event.validation_accuracy:.4f}"
        rule = "arithmetic" if event.rule == "mean" else "geometric"
        return [f"combined: {rule} mean of probabilities ({shares}){scored}"]
    if isinstance(event, Calibrated):
        return [calibration_text(event.calibration)]
    if isinstance(event, ThresholdsChosen):
        return [thresholds_text(event)]
    return []


def long_texts_text(event: LongTexts, what: str = "training texts") -> str:
    counted = f"long texts: {event.longer:,} of {event.total:,} {what} are longer than max_len={event.max_len} tokens"
    if event.stride is None:
        return f"{counted}: truncated to their first {event.max_len} (--long-text chunk reads them whole)"
    how = ("training, validation and prediction read every window" if event.every_window else
           "training reads a random window per epoch, validation and prediction every window")
    return (f"{counted}: read in windows of {event.max_len} (stride {event.stride}, {event.pooling} of their "
            f"logits); {how}")


def calibration_text(calibration: Calibration) -> str:
    verdict = "kept" if calibration.kept else "not kept: it does not lower the error, the temperature stays 1"
    return (f"calibration: temperature {calibration.temperature:.3f} fitted on the validation data; expected "
            f"calibration error {calibration.ece_before:.4f} -> {calibration.ece_after:.4f} ({verdict})")


def thresholds_text(event: ThresholdsChosen) -> str:
    rule = event.rule
    how = ("as given" if isinstance(rule, float) else f"{rule}, chosen on the validation data" if event.validated
           else "0.5: no validation data to choose them on")
    shown = ", ".join(f"{name} {t:.3f}" for name, t in zip(event.classes[:8], event.thresholds))
    return f"multi-label thresholds ({how}): {shown}{', …' if len(event.classes) > 8 else ''}"

