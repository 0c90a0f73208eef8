"""Stage 1, raw text: data files and Python lists -> texts and labels, or predict's inputs.

Files are read as they stream by (`data/streams.py`); predict's inputs are read in `data/inputs.py`.
Every problem names the file, the line and the field. Malformed rows stop the read, unless
`skip_bad_rows` is set; then each one is kept as a `BadRow` (line, problem, the row as it stands)
for the caller to report: never dropped silently. The formats themselves are in `data/formats.py`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from seqclf.data.formats import EXTENSIONS, FORMATS, BadRow, Blank, Row
from seqclf.data.settings import DataConfig
from seqclf.data.streams import ReadProgress, not_blank, text_chunks
from seqclf.data.spaced_labels import note_stripped_labels, spaced_labels
from seqclf.errors import DataError
from seqclf.fields import check_choice
from seqclf.task import SINGLE_LABEL, Task, task_of

LabelSet = tuple[str, ...]  # a multi-label example's labels, in the order given, each once


@dataclass
class Dataset:
    """Texts with their labels (labels are None for unlabeled input), and the rows skipped. A multi-label
    data set's labels are label sets; `detected` says where the data showed it was one (a row holding
    several labels) when the settings did not say so."""

    texts: list[str]
    labels: list[str] | list[LabelSet] | None
    source: str
    skipped: list[BadRow] = field(default_factory=list)
    lines: list[int] | None = None  # each text's line in its file (None: not read from a file)
    task: Task = SINGLE_LABEL  # multi-label: the labels are label sets
    detected: str | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def select(self, indices: Sequence[int], source: str | None = None) -> Dataset:
        labels = None if self.labels is None else [self.labels[i] for i in indices]
        lines = None if self.lines is None else [self.lines[i] for i in indices]
        return Dataset([self.texts[i] for i in indices], labels, source or self.source, lines=lines,
                       task=self.task)

    def label_names(self) -> list[str]:
        """The distinct class names of the labels (label sets flattened), sorted."""
        labels = self.labels or []
        return sorted({name for label in labels for name in (label if isinstance(label, tuple) else (label,))})

    def where(self, index: int) -> str:
        """The text's place: file:line when read from a file, else its position in the list (from 1)."""
        return f"{self.source}:{self.lines[index]}" if self.lines is not None else f"{self.source}[{index + 1}]"


def format_of(path: Path, format: str | None, default: str | None = None) -> str:
    """The format to read `path` in: as given, else from the extension, else `default` (which also
    replaces fastText's .txt: predict reads a .txt file as one text per line)."""
    if format is not None:
        check_choice("format", format, FORMATS)
        return format
    found = EXTENSIONS.get(path.suffix.lower())
    if default is not None and found in (None, "fasttext"):
        return default
    if found is None:
        raise DataError(f"cannot tell the format from the extension {path.suffix!r}", path=path,
                        hint=f"use a .csv/.tsv/.jsonl/.txt name or pass --input-format {'|'.join(FORMATS)} "
                             "(format= in Python)")
    return found


@contextlib.contextmanager
def opened(path: Path) -> Iterator[BinaryIO]:
    """The data file, open for reading; one that cannot be opened is a DataError naming it."""
    with _reading(path):
        binary = open(path, "rb")
    with binary:
        yield binary


def check_readable(path: str | Path, config: DataConfig) -> None:
    """Fail now, before any work, if `path` is not a readable file of a known format."""
    path = Path(path)
    format_of(path, config.format)
    with _reading(path):
        open(path, "rb").close()


def read_dataset(path: str | Path, config: DataConfig | None = None, *, require_labels: bool = True,
                 progress: ReadProgress | None = None) -> Dataset:
    """Read a labeled (or, with require_labels=False, possibly unlabeled) data file; `progress` follows the read."""
    config = config or DataConfig()
    path = Path(path)
    fmt = format_of(path, config.format)
    with opened(path) as binary:
        chunks = not_blank(text_chunks(binary, config.encoding, str(path), progress), str(path))
        rows = FORMATS[fmt](chunks, config, str(path), require_labels)
        return _collect(rows, str(path), config, require_labels, progress)


def dataset_from_lists(texts: Sequence[str], labels: Sequence[object] | None, source: str = "input",
                       task: Task = SINGLE_LABEL) -> Dataset:
    """Check Python lists the way files are checked; labels become strings. A label that is a list, tuple or
    set (or any label, when `task` is multi-label) is a label set: the data set is then multi-label."""
    if isinstance(texts, str):
        raise DataError("texts must be a list of strings, not one string", field="texts", path=source)
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"item {i} is {type(text).__name__}, not str", field="texts", path=source)
        if not text.strip():
            raise DataError(f"item {i} is an empty text", field="texts", path=source, hint="remove empty texts")
    if labels is None:
        return Dataset(texts, None, source)
    labels = list(labels)
    if len(labels) != len(texts):
        raise DataError(f"{len(texts)} texts but {len(labels)} labels", field="labels", path=source)
    sets = [i for i, label in enumerate(labels) if isinstance(label, (list, tuple, set, frozenset))]
    label_sets = task.label_sets or bool(sets)
    out, spaced = [], []
    for i, label in enumerate(labels):
        names = list(label) if isinstance(label, (list, tuple, set, frozenset)) else [label]
        for name in names:
            if not isinstance(name, (str, int)) or isinstance(name, bool) or str(name).strip() == "":
                raise DataError(f"item {i} ({label!r}) is not a class name" + (" or a list of them" if label_sets
                                else ""), field="labels", path=source, hint="labels are non-empty strings or integers"
                                + ("; a multi-label example's labels are a list of them" if label_sets else ""))
        spaced += [(f"item {i}", name) for name in spaced_labels(names)]
        out.append(tuple(dict.fromkeys(str(name).strip() for name in names)) if label_sets else str(label).strip())
    note_stripped_labels(source, spaced, out)
    detected = f"item {sets[0]} is a list of labels" if sets else None
    return Dataset(texts, out, source, task=task_of(label_sets), detected=detected)


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A file that cannot be read is a DataError naming it."""
    try:
        yield
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a data file", path=path) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=path) from None


def usable_rows(rows: Iterable[Row | Blank | BadRow], source: str, config: DataConfig, require_labels: bool,
                skipped: list[BadRow], spaced: list[tuple[str, str]],
                progress: ReadProgress | None = None) -> Iterator[Row]:
    """The rows a data set is made of, checked (a str text; a str label, a `LabelSet` or None), in order. A bad
    row stops the read, or with skip_bad_rows goes to `skipped`; labels written with spaces around them go to
    `spaced` as (where, label as written); `progress` counts the rows."""
    for row in rows:
        if progress is not None:
            progress.rows += 1
        if isinstance(row, Blank):
            continue  # a blank line is not a row
        if isinstance(row, Row):
            spaced += [(f"line {row.line}", name) for name in spaced_labels(row.label)]
            row = checked_row(row, config, source, require_labels)
        if isinstance(row, BadRow):
            if not config.skip_bad_rows:
                raise row.error()
            skipped.append(row)
            continue
        yield row


def label_sets_seen(source: str, line: int, count: int) -> str:
    """Where a file showed it is multi-label when the settings did not say so."""
    return f"{source}:{line} gives a list of {count} label{'' if count == 1 else 's'}"


def no_usable_rows(source: str, skipped: list[BadRow]) -> DataError:
    problem = "no usable rows" + (f" ({len(skipped)} bad rows skipped)" if skipped else "")
    return DataError(problem, path=source, hint="the file holds a header or bad rows only")


def _collect(rows: Iterator[Row | Blank | BadRow], source: str, config: DataConfig, require_labels: bool,
             progress: ReadProgress | None) -> Dataset:
    texts: list[str] = []
    labels: list[str | LabelSet | None] = []
    lines: list[int] = []
    skipped: list[BadRow] = []
    spaced: list[tuple[str, str]] = []
    for row in usable_rows(rows, source, config, require_labels, skipped, spaced, progress):
        texts.append(row.text)
        labels.append(row.label)
        lines.append(row.line)
    note_stripped_labels(source, spaced, labels)
    if not texts:
        raise no_usable_rows(source, skipped)
    has_labels = all(label is not None for label in labels)
    if require_labels and not has_labels:
        raise DataError("rows without a label", path=source)
    first_set = next((i for i, label in enumerate(labels) if isinstance(label, tuple)), None)
    asked = config.task
    task = task_of(asked.label_sets or first_set is not None)
    detected = None
    if task != asked:  # rows with several labels: the other rows hold sets of one
        labels = [label if isinstance(label, tuple) or label is None else (label,) for label in labels]
        detected = label_sets_seen(source, lines[first_set], len(labels[first_set]))
    return Dataset(texts, labels if has_labels else None, source, skipped, lines, task, detected)


def checked_row(row: Row, config: DataConfig, source: str, require_labels: bool) -> Row | BadRow:
    """The row with a str text and a str label (or None), or what is wrong with it."""
    text, label = row.text, row.label
    text_field, label_field = config.text_column, config.label_column

    def bad(problem: str, field: str) -> BadRow:
        return BadRow(source, row.line, problem, row.raw, field)

    if not isinstance(text, str):
        return bad(f"text is {type(text).__name__}, not a string", text_field)
    if not text.strip():
        return bad("empty text", text_field)
    if label is None:
        return bad("missing label", label_field) if require_labels else row
    if config.task.label_sets or isinstance(label, list):
        return _with_label_set(row, config, bad)
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        return bad(f"label is {type(label).__name__}, not a class name", label_field)
    if str(label).strip() == "":
        return bad("empty label", label_field)
    return Row(row.line, text, str(label).strip(), row.raw)




def _with_label_set(row: Row, config: DataConfig, bad) -> Row | BadRow:
    """The row with its labels as a `LabelSet`: a JSON list, fastText's tags, or a field split at
    `label_separator` (an empty field: no labels); each label once, in the order given."""
    label, label_field = row.label, config.label_column
    if isinstance(label, str):
        names = label.split(config.label_separator)
    elif isinstance(label, list):
        names = label
    elif isinstance(label, int) and not isinstance(label, bool):
        names = [label]
    else:
        return bad(f"label is {type(label).__name__}, not a class name or a list of them", label_field)
    for name in names:
        if isinstance(name, bool) or not isinstance(name, (str, int)):
            return bad(f"a label in the list is {type(name).__name__}, not a class name", label_field)
    return Row(row.line, row.text, tuple(dict.fromkeys(n for n in (str(name).strip() for name in names) if n)),
               row.raw)
