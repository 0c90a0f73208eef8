"""What the command line prints for data and trained models: data summaries, the data-flow table,
evaluation tables and predictions (the training report as it runs: report.py). Formatting only: every
figure comes from the library's objects. Importing it never imports PyTorch.

Everything the command prints goes through a `LiteralConsole`: a string is shown as written, never
read as Rich markup ("[bold]", "[/]") or an emoji code (":smile:"), and its control characters are
escaped (`seqclf.printable`). Labels, texts, paths and column names come from users; emphasis of our
own is a `style`, never markup inside a string."""
from __future__ import annotations

import contextlib
import json
import sys
import warnings
from collections.abc import Iterator, Sequence

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from seqclf.api import EngineEvent, GraphExporting
from seqclf.errors import SeqclfWarning
from seqclf.reading import BadRow
from seqclf.printable import printable

if TYPE_CHECKING:
    from seqclf.threads import ThreadChoice
    from seqclf.text.encoded import EncodedData
    from seqclf.data_flow import DataFlow


class LiteralConsole(Console):
    """A Rich console that prints every string literally: no markup, no emoji codes, no highlighting,
    control characters escaped (line breaks stay line breaks: a trace spans lines)."""

    def __init__(self, **options) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, soft_wrap=True, **options)

    def render_str(self, text: str, **options) -> Text:  # every str printed, table cells and titles too
        return super().render_str(printable(text, keep_line_breaks=True), **{**options, "markup": False, "emoji": False})


def emphasized(bold: str, rest: str = "") -> Text:
    """`bold` in bold, then `rest`, both as written."""
    return Text.assemble((printable(bold), "bold"), printable(rest))


NOUNS = {"single-label": "classes", "multi-label": "labels (multi-label)"}  # by task name


def threads_text(choice: ThreadChoice) -> str:
    """Why fewer threads than cores (said only then)."""
    return (f"threads: {choice.threads} of {choice.cores} cores: {choice.taken} kept busy by other processes "
            f"(threads waiting for a busy core slow every step); --threads N sets the count")


def engine_text(event: EngineEvent) -> str:
    """What the default engine did before the first prediction: exported the graph, or fell back."""
    if isinstance(event, GraphExporting):
        return (f"writing the ONNX graph {event.path} (once for this model: ONNX Runtime predicts from it; "
                f"--backend torch runs PyTorch instead)")
    return f"predicting with PyTorch: the ONNX graph could not be written ({event.reason})"


def classes_text(classes: list[str], task: str = "single-label") -> str:
    noun = NOUNS[task]
    return f"{len(classes)} {noun}: {', '.join(classes[:8])}{', …' if len(classes) > 8 else ''}"


def print_data(console: Console, data: EncodedData) -> None:
    """One line per data file read: size, classes, and how long reading and encoding took."""
    how = "loaded from the cache" if data.from_cache else "read and encoded"
    labels = classes_text(sorted(data.label_names), data.task.name)
    if data.task.label_sets:
        labels = f"{len(data.label_ids) / max(len(data), 1):.2f} labels per text, {labels}"
    console.print(f"{data.source}: {len(data)} examples, {data.tokens:,} tokens, "
                  f"{labels}; {how} in {data.seconds:.2f} s "
                  f"({data.tokens / max(data.seconds, 1e-9):,.0f} tokens/s)")
    if data.skipped:
        console.print(f"skipped {len(data.skipped)} bad rows, e.g. "
                      + "; ".join(row.describe() for row in data.skipped[:3]))


def print_data_flow(console: Console, flow: DataFlow) -> None:
    table = Table("stage", "operation", "shape", "example", title="data flow")
    for row in flow.rows:
        table.add_row(row.stage, row.operation, row.shape_text, row.example)
    console.print(table)
    console.print(flow.summary())


def headline(report: dict) -> str:
    """An evaluation's main figures on one line: accuracy and macro-F1, or a multi-label model's F1s."""
    if "micro_f1" in report:
        return (f"micro-F1 {report['micro_f1']:.4f}, macro-F1 {report['macro_f1']:.4f}, samples-F1 "
                f"{report['samples_f1']:.4f}, subset accuracy {report['subset_accuracy']:.4f}, Hamming loss "
                f"{report['hamming_loss']:.4f} on {report['examples']} examples")
    return f"accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f} on {report['examples']} examples"


def print_evaluation(console: Console, report: dict, classes: list[str]) -> None:
    if "micro_f1" in report:
        return _print_label_sets_evaluation(console, report)
    calibration = report["calibration"]
    console.print(f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   "
                  f"expected calibration error {calibration['expected_calibration_error']:.4f} "
                  f"({calibration['bins']} bins)   examples {report['examples']}")
    table = Table("class", "precision", "recall", "F1", "support", title="per class")
    for name, row in report["per_class"].items():
        table.add_row(name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", str(row["support"]))
    console.print(table)
    matrix = Table("true \\ predicted", *classes, title="confusion matrix")
    for name, row in zip(classes, report["confusion_matrix"]["rows_true_columns_predicted"]):
        matrix.add_row(name, *map(str, row))
    console.print(matrix)
    if "errors" in report:
        mistakes = Table("probability", "gold", "predicted", "text", title="most confident mistakes")
        for mistake in report["errors"]:
            mistakes.add_row(f"{mistake['probability']:.4f}", *(mistake[key] for key in ("gold", "predicted", "text")))
        console.print(mistakes)


def _print_label_sets_evaluation(console: Console, report: dict) -> None:
    console.print(headline(report) + f" (micro precision {report['micro_precision']:.4f}, recall "
                  f"{report['micro_recall']:.4f})")
    table = Table("label", "threshold", "precision", "recall", "F1", "support", title="per label")
    for name, row in report["per_label"].items():
        table.add_row(name, f"{row['threshold']:.3f}", *(f"{row[key]:.4f}" for key in ("precision", "recall", "f1")),
                      str(row["support"]))
    console.print(table)
    if "errors" in report:
        mistakes = Table("wrong labels", "gold", "predicted", "text", title="texts with the most wrong label decisions")
        for mistake in report["errors"]:
            mistakes.add_row(str(mistake["wrong_labels"]), *(", ".join(mistake[key]) for key in ("gold", "predicted")),
                             mistake["text"])
        console.print(mistakes)


def print_top_words(console: Console, report: dict) -> None:
    """Per class, its words with the largest mean attribution, side by side."""
    console.print(f"top words per class: mean attribution to the class's score over {report['texts']} texts "
                  f"(words seen at least {report['min_count']} times; {report['steps']} steps)")
    for name, words in report["classes"].items():
        table = Table("word", "mean attribution", "count", title=name)
        for word in words:
            table.add_row(word["word"], f"{word['mean_attribution']:+.4f}", str(word["count"]))
        console.print(table)
    if report.get("note"):
        console.print(report["note"])


def print_label_issues(console: Console, rows: list[dict]) -> None:
    """The first rows of an audit's ranking: the likeliest label errors."""
    if not rows:
        return
    table = Table(title="likeliest label errors (out-of-fold probability of the given label, lowest first)")
    for name in ("rank", "where", "label", "suggested", "p(label)", "issue"):
        table.add_column(name, no_wrap=True)  # the place and the labels stay whole; the text wraps
    table.add_column("text")
    for row in rows:
        table.add_row(str(row["rank"]), row["where"], row["label"], row["suggested"],
                      f"{row['probability_of_label']:.4f}", "yes" if row["issue"] else "", row["text"])
    console.print(table)


# -- predictions: one output per input ------------------------------------------------------------


def _write_json(inputs: Sequence[str | BadRow], results: Sequence[dict | None], width: int, out: Console) -> None:
    encode = _JSON.encode
    lines = [encode({"text": row.raw, "label": None, "probabilities": None, "error": row.message()}) if result is None
             else encode({"text": row, **result}) for row, result in zip(inputs, results)]
    sys.stdout.write("\n".join(lines) + "\n")


def _write_tsv(inputs: Sequence[str | BadRow], results: Sequence[dict | None], width: int, out: Console) -> None:
    """label, class=probability per class, text; in every field (texts, class names, messages) backslashes
    written \\\\ and tabs, line breaks and other control characters escaped (\\t, \\n, \\r, \\x1b:
    `printable`), so every input is one line of the same number of fields."""
    lines = []
    for row, result in zip(inputs, results):
        if result is None:
            fields = ["", f"error={row.message()}", *[""] * (width - 1), row.raw]
        else:
            fields = [_label_text(result), *(f"{c}={p:.6f}" for c, p in result["probabilities"].items()), row]
        lines.append("\t".join(printable(field.replace("\\", "\\\\")) for field in fields))
    sys.stdout.write("\n".join(lines) + "\n")


def _write_table(inputs: Sequence[str | BadRow], results: Sequence[dict | None], width: int, out: Console) -> None:
    table = Table("text", "label", "probabilities")
    for row, result in zip(inputs, results):
        if result is None:
            table.add_row(row.raw, "-", row.message())
        else:
            table.add_row(row, _label_text(result), "  ".join(f"{c} {p:.3f}" for c, p in result["probabilities"].items()))
    out.print(table)


def _label_text(result: dict) -> str:
    """The class, or a multi-label model's labels joined by commas (none: empty)."""
    return result["label"] if "label" in result else ",".join(result["labels"])


PREDICTION_WRITERS = {"json": _write_json, "tsv": _write_tsv, "table": _write_table}
_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder for every line (json.dumps makes one per call)


def write_predictions(out: Console, format: str, inputs: Sequence[str | BadRow], results: Sequence[dict | None],
                      width: int) -> None:
    """One batch of predictions in `format`, flushed: what is written is whole lines, in input order."""
    PREDICTION_WRITERS[format](inputs, results, width, out)
    sys.stdout.flush()


class PredictionTally:
    """What predict says on stderr when it is done, counted batch by batch: inputs and outputs, the rows
    without a label (the first one named), texts truncated or read in windows."""

    def __init__(self) -> None:
        self.inputs = self.truncated = self.windowed = 0
        self.first_unlabeled: BadRow | None = None  # the summary names it and says if there are more
        self.unlabeled_count = 0
        self.note = ""  # a multi-label model's note on its thresholds

    def add(self, inputs: Sequence[str | BadRow], results: Sequence[dict | None]) -> None:
        self.inputs += len(inputs)
        bad = [row for row in inputs if isinstance(row, BadRow)]
        self.unlabeled_count += len(bad)
        self.first_unlabeled = self.first_unlabeled or next(iter(bad), None)
        answered = [result for result in results if result is not None]
        self.truncated += sum("truncated" in result for result in answered)
        self.windowed += sum("windows" in result for result in answered)
        if answered and "labels" in answered[0]:
            self.note = answered[0]["note"]

    def summary(self) -> str:
        note = ""
        if self.unlabeled_count:
            note = (f"; {self.unlabeled_count} without a label (\"label\": null): {self.first_unlabeled.message()}"
                    + (", …" if self.unlabeled_count > 1 else ""))
        if self.truncated:
            note += (f"; {self.truncated} longer than max_len, truncated (\"truncated\"; --long-text chunk at "
                     "training reads them whole)")
        if self.windowed:
            note += f"; {self.windowed} longer than max_len, read in windows (\"windows\")"
        if self.note:
            note += "; " + self.note
        return f"{self.inputs} inputs, {self.inputs} outputs{note}"


@contextlib.contextmanager
def warnings_as_lines(err: Console) -> Iterator[None]:
    """seqclf's own warnings (a damaged cache entry rebuilt, a cache that cannot be written) as one line each."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SeqclfWarning):
            err.print(f"warning: {message}")
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown
