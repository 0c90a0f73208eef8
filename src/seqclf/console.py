"""What the command line prints: the training report, data summaries, the data-flow table, evaluation
tables and predictions. Formatting only: every figure comes from the library's objects."""
from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from seqclf.api import BadRow
from seqclf.data.encoded import EncodedData
from seqclf.errors import SeqclfWarning
from seqclf.trace import DataFlow
from seqclf.training.distributed import Cluster
from seqclf.training.history import TRACE_COLUMNS, EpochRecord, History, trace_row
from seqclf.tune import TrialRow, TuneReport
from seqclf.training.trainer import Progress as TrainingProgress

_WIDTHS = (7, 11, 10, 11, 10, 8, 10)


def _line(cells: tuple[str, ...]) -> str:
    return "".join(f"{cell:>{width}}" for cell, width in zip(cells, _WIDTHS))


class ConsoleReport(TuneReport):
    """The data read; a progress bar while an epoch runs; a row of the training trace when it ends; the
    chart at the end; a search's trials as a live table."""

    def __init__(self, console: Console, title: str = "training trace") -> None:
        self.console, self.title = console, title
        self.progress: Progress | None = None
        self.task = None
        self.title_shown = self.header_shown = self.trials_shown = False

    def on_cluster(self, cluster: Cluster, batch_size: int) -> None:
        if cluster.distributed:
            self.console.print(f"distributed: {cluster.world_size} processes ({cluster.backend} on "
                               f"{cluster.device.type}), batch {batch_size} shared among them", markup=False)

    def on_data(self, data: EncodedData) -> None:
        print_data(self.console, data)

    def on_member(self, member: int, members: int, seed: int) -> None:
        if members > 1:
            if member:
                self.console.print()
            self.console.print(f"[bold]sequence model {member + 1} of {members}[/bold] (seed {seed})")
            self.header_shown = False

    def on_combined(self, summary: str) -> None:
        self.console.print(summary, markup=False)

    def on_trial(self, row: TrialRow) -> None:
        if not self.trials_shown:
            self.console.print("[bold]search[/bold] (validation figure of each trial; * the best so far)")
            self.console.print(f"{'trial':>6} {'state':<9}{'value':>8}{'epochs':>8}{'seconds':>9}  settings",
                               style="bold", highlight=False)
            self.trials_shown = True
        value = "-" if row.value is None else f"{row.value:.4f}"
        settings = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.settings.items())
        self.console.print(f"{row.number:>4}{' *' if row.best else '  '} {row.state:<9}{value:>8}{row.epochs:>8}"
                           f"{row.seconds:>9.1f}  {settings}", markup=False, highlight=False)

    def _title(self) -> None:
        if not self.title_shown:
            self.console.print(f"[bold]{self.title}[/bold]")
            self.title_shown = True

    def _header(self) -> None:
        self._title()
        if not self.header_shown:
            self.console.print(_line(TRACE_COLUMNS), style="bold", highlight=False)
            self.header_shown = True

    def on_resume(self, progress: TrainingProgress) -> None:
        self._title()
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


def classes_text(classes: list[str]) -> str:
    return f"{len(classes)} classes: {', '.join(classes[:8])}{', …' if len(classes) > 8 else ''}"


def print_data(console: Console, data: EncodedData) -> None:
    """One line per data file read: size, classes, and how long reading and encoding took."""
    how = "loaded from the cache" if data.from_cache else "read and encoded"
    console.print(f"{data.source}: {len(data)} examples, {data.tokens:,} tokens, "
                  f"{classes_text(sorted(data.label_names))}; {how} in {data.seconds:.2f} s "
                  f"({data.tokens / max(data.seconds, 1e-9):,.0f} tokens/s)", markup=False)
    if data.skipped:
        console.print(f"skipped {len(data.skipped)} bad rows, e.g. "
                      + "; ".join(row.describe() for row in data.skipped[:3]), markup=False)


def print_data_flow(console: Console, flow: DataFlow) -> None:
    table = Table("stage", "operation", "shape", "example", title="data flow")
    for row in flow.rows:
        table.add_row(row.stage, row.operation, row.shape_text, row.example)
    console.print(table)
    console.print(flow.summary())


def print_evaluation(console: Console, report: dict, classes: list[str]) -> None:
    console.print(f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   "
                  f"examples {report['examples']}")
    table = Table("class", "precision", "recall", "F1", "support", title="per class")
    for name, row in report["per_class"].items():
        table.add_row(name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", str(row["support"]))
    console.print(table)
    matrix = Table("true \\ predicted", *classes, title="confusion matrix")
    for name, row in zip(classes, report["confusion_matrix"]["rows_true_columns_predicted"]):
        matrix.add_row(name, *map(str, row))
    console.print(matrix)


# -- predictions: one output per input ------------------------------------------------------------


def _write_json(inputs: Sequence[str | BadRow], results: Sequence[dict | None], width: int, out: Console) -> None:
    for row, result in zip(inputs, results):
        if result is None:
            line = {"text": row.raw, "label": None, "probabilities": None, "error": row.message()}
        else:
            line = {"text": row, **result}
        print(json.dumps(line, ensure_ascii=False))


def _write_tsv(inputs: Sequence[str | BadRow], results: Sequence[dict | None], width: int, out: Console) -> None:
    """label, class=probability per class, text; tabs, line breaks and backslashes in texts escaped as
    \\t, \\n, \\r and \\\\, so every input is one line of the same number of fields."""
    for row, result in zip(inputs, results):
        if result is None:
            fields = ["", f"error={row.message()}", *[""] * (width - 1), row.raw]
        else:
            fields = [result["label"], *(f"{c}={p:.6f}" for c, p in result["probabilities"].items()), row]
        print("\t".join([*fields[:-1], fields[-1].translate(_TSV_ESCAPES)]))


def _write_table(inputs: Sequence[str | BadRow], results: Sequence[dict | None], width: int, out: Console) -> None:
    table = Table("text", "label", "probabilities")
    for row, result in zip(inputs, results):
        if result is None:
            table.add_row(row.raw, "-", row.message())
        else:
            table.add_row(row, result["label"], "  ".join(f"{c} {p:.3f}" for c, p in result["probabilities"].items()))
    out.print(table)


PREDICTION_WRITERS = {"json": _write_json, "tsv": _write_tsv, "table": _write_table}
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def print_predictions(out: Console, err: Console, format: str, inputs: Sequence[str | BadRow],
                      results: Sequence[dict | None], width: int) -> None:
    """The predictions in `format`, then the input and output counts on stderr."""
    PREDICTION_WRITERS[format](inputs, results, width, out)
    unlabeled = [row for row in inputs if isinstance(row, BadRow)]
    note = f"; {len(unlabeled)} without a label (\"label\": null): {unlabeled[0].message()}" + (
        ", …" if len(unlabeled) > 1 else "") if unlabeled else ""
    err.print(f"{len(inputs)} inputs, {len(results)} outputs{note}", markup=False)


@contextlib.contextmanager
def warnings_as_lines(err: Console) -> Iterator[None]:
    """seqclf's own warnings (a damaged cache entry rebuilt, a cache that cannot be written) as one line each."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SeqclfWarning):
            err.print(f"warning: {message}", markup=False)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown
