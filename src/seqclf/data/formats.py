"""The file formats of stage 1, by name: each turns a file's text into rows, one per line or record.

A row is a `Row` (its text and label, not yet checked), a `Blank` (a line with nothing on it) or a
`BadRow` (what is wrong with it, and the row as it stands in the file). `data/readers.py` decides
what to do with each; the formats only say what they found.

TSV means tab-separated lines (the IANA definition, and the layout of the GLUE and SentEval files):
a quotation mark is an ordinary character unless `quoting` says csv. CSV follows RFC 4180 quoting.
Lines end at \\n or \\r\\n only (and, inside CSV quoting, where the csv module says), never at
U+2028 and the like, which may sit inside a text. A format reads the file's text as it streams by, in
pieces (`data/streams.py`): no format holds a whole file.
"""
from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from seqclf.data.streams import csv_lines, lines_at_newlines
from seqclf.errors import DataError
from seqclf.printable import shortened

if TYPE_CHECKING:
    from seqclf.data.settings import DataConfig

# A text may be megabytes long; the csv module's default limit (128 KiB per field) would refuse it.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "fasttext",
    ".ft": "fasttext",
    ".fasttext": "fasttext",
}
DELIMITERS = {"csv": ",", "tsv": "\t"}
AUTO_QUOTING = {"csv": "csv", "tsv": "none"}  # what quoting=auto means for each delimited format
DELIMITER_NAMES = {"\\t": "\t", "tab": "\t"}  # what a shell lets one type for a tab
FASTTEXT_PREFIX = "__label__"
SKIP_HINT = "fix the row, or pass --skip-bad-rows to skip such rows"
# (the text in pieces, settings, source name, whether labels are required) -> rows
RowReader = Callable[[Iterable[str], "DataConfig", str, bool], Iterator["Row | Blank | BadRow"]]


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be used: where it is, what is wrong with it, and the row as it stands."""

    source: str
    line: int | None  # None for a text given as an argument or in a list
    problem: str
    raw: str
    field: str | None = None
    hint: str | None = None  # a setting that would read it, when there is one

    def describe(self) -> str:
        return f"line {self.line}: {self.problem}" if self.line is not None else self.problem

    def message(self) -> str:
        """Where and what, as errors say it: 'file:line: problem'."""
        return f"{self.source}:{self.line}: {self.problem}" if self.line is not None else f"{self.source}: {self.problem}"

    def error(self, hint: str = SKIP_HINT) -> DataError:
        return DataError(self.problem, path=self.source, line=self.line, field=self.field, hint=self.hint or hint)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> BadRow:
        return cls(**values)


@dataclass
class Row:
    line: int
    text: object  # a str once checked; JSON may hold anything
    label: object
    raw: str


@dataclass
class Blank:
    """A line with nothing on it: no row of a data set, but an (empty) input to predict."""

    line: int
    raw: str


class _Columns:
    """Where the text and label are in a delimited file's rows, from its header."""

    def __init__(self, header: list[str], config: DataConfig, source: str, delimiter: str,
                 require_labels: bool) -> None:
        names = [name.strip() for name in header]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise DataError(f"column names appear more than once in the header: {', '.join(map(repr, repeated))}",
                            path=source, line=1, hint="give every column its own name")
        self.width = len(names)
        self.text_at = self._find(names, config.text_column, "--text-column", source, delimiter)
        self.label_at = names.index(config.label_column) if config.label_column in names else None
        if self.label_at is None and require_labels:
            raise DataError(f"no column {config.label_column!r} in the header (columns: {_listed(names)})",
                            path=source, line=1, field=config.label_column, hint="pass --label-column NAME")

    @staticmethod
    def _find(names: list[str], column: str, flag: str, source: str, delimiter: str) -> int:
        if column in names:
            return names.index(column)
        hint = f"pass {flag} NAME"
        if len(names) == 1:  # one column: perhaps the fields are separated by another character
            for other in (";", "\t", ",", "|"):
                if other != delimiter and column in [n.strip() for n in names[0].split(other)]:
                    hint = f"the header reads as fields separated by {other!r}: pass --delimiter " + (
                        "tab" if other == "\t" else repr(other))
        raise DataError(f"no column {column!r} in the header (columns: {_listed(names)})", path=source, line=1,
                        field=column, hint=hint)

    def row(self, line: int, values: list[str], raw: str, source: str, hint: str | None) -> Row | BadRow:
        if len(values) != self.width:
            return BadRow(source, line, f"{len(values)} fields, the header has {self.width}", raw, hint=hint)
        return Row(line, values[self.text_at], values[self.label_at] if self.label_at is not None else None, raw)


def _listed(names: list[str]) -> str:
    """A header's column names, as a message quotes them: the first few, each shortened."""
    shown = ", ".join(repr(shortened(name, 40)) for name in names[:12])
    return shown + (f", … ({len(names)} columns)" if len(names) > 12 else "")


def _delimited_rows(fmt: str) -> RowReader:
    def read(chunks: Iterable[str], config: DataConfig, source: str,
             require_labels: bool) -> Iterator[Row | Blank | BadRow]:
        delimiter = config.delimiter or DELIMITERS[fmt]
        quoting = AUTO_QUOTING[fmt] if config.quoting == "auto" else config.quoting
        return QUOTING_READERS[quoting](chunks, config, source, delimiter, require_labels)

    return read


class _TakenLines:
    """The lines the csv reader takes, kept until the row they make is done: its raw text."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines, self.taken = lines, []

    def __iter__(self) -> _TakenLines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line

    def row_text(self) -> str:
        """The lines taken since the last call, joined, without the last line end."""
        text, self.taken = "".join(self.taken).rstrip("\r\n"), []
        return text


def _quoted_rows(chunks: Iterable[str], config: DataConfig, source: str, delimiter: str,
                 require_labels: bool) -> Iterator[Row | Blank | BadRow]:
    """RFC 4180: a field in quotation marks may hold the delimiter, line breaks and doubled quotes."""
    # rows end at \n, \r\n or \r only, never at U+2028 and the like inside a text
    lines = _TakenLines(csv_lines(chunks))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader, [""])  # no line at all: a header without the text column
    except csv.Error as exc:
        raise DataError(f"cannot parse the header: {exc} (read with --quoting csv)", path=source, line=1,
                        hint="if quotation marks are ordinary text in this file, pass --quoting none") from None
    lines.row_text()
    columns = _Columns(header, config, source, delimiter, require_labels)
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raw = lines.row_text()
            unquoted_fits = len(raw.split("\n")[0].split(delimiter)) == columns.width
            yield BadRow(source, line, f"malformed row: {exc} (read with --quoting csv, where '\"' starts a quoted "
                         "field)", raw, hint="pass --quoting none: quotation marks are then ordinary text"
                         if unquoted_fits else None)
            continue
        raw = lines.row_text()
        if not values or (len(values) == 1 and not values[0].strip()):
            yield Blank(line, raw)
            continue
        yield columns.row(line, values, raw, source, None)


def _unquoted_rows(chunks: Iterable[str], config: DataConfig, source: str, delimiter: str,
                   require_labels: bool) -> Iterator[Row | Blank | BadRow]:
    """Each line a row, fields split at every delimiter; quotation marks are ordinary characters."""
    lines = enumerate(lines_at_newlines(chunks, source), start=1)
    _, header = next(lines, (1, ""))
    columns = _Columns(header.split(delimiter), config, source, delimiter, require_labels)
    for line, raw in lines:
        if not raw.strip():
            yield Blank(line, raw)
            continue
        values = raw.split(delimiter)
        hint = None
        if len(values) != columns.width and '"' in raw and _fields_when_quoted(raw, delimiter) == columns.width:
            hint = "the row reads with --quoting csv (a field in quotation marks may hold the delimiter)"
        yield columns.row(line, values, raw, source, hint)


def _fields_when_quoted(raw: str, delimiter: str) -> int | None:
    try:
        return len(next(csv.reader([raw], delimiter=delimiter, strict=True)))
    except (csv.Error, StopIteration):
        return None


def _jsonl_rows(chunks: Iterable[str], config: DataConfig, source: str,
                require_labels: bool) -> Iterator[Row | Blank | BadRow]:
    for line, raw in enumerate(lines_at_newlines(chunks, source), start=1):
        if not raw.strip():
            yield Blank(line, raw)
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield BadRow(source, line, f"invalid JSON: {exc.msg} at column {exc.colno}", raw)
            continue
        if not isinstance(record, dict):
            yield BadRow(source, line, f"expected a JSON object, got {type(record).__name__}", raw)
            continue
        if config.text_column not in record:
            yield BadRow(source, line, "missing key", raw, config.text_column, hint="pass --text-column KEY"
                         if len(record) > 1 else None)
            continue
        yield Row(line, record[config.text_column], record.get(config.label_column), raw)


def _fasttext_rows(chunks: Iterable[str], config: DataConfig, source: str,
                   require_labels: bool) -> Iterator[Row | Blank | BadRow]:
    for line, raw in enumerate(lines_at_newlines(chunks, source), start=1):
        if not raw.strip():
            yield Blank(line, raw)
            continue
        words = raw.split()
        labels = [w[len(FASTTEXT_PREFIX):] for w in words if w.startswith(FASTTEXT_PREFIX)]
        text = " ".join(w for w in words if not w.startswith(FASTTEXT_PREFIX))
        sets_asked = config.task.label_sets
        if not labels and require_labels and not sets_asked:
            yield BadRow(source, line, f"no {FASTTEXT_PREFIX}NAME label", raw, "label")
            continue
        # several tags, or any number when label sets are asked: a label set; else the one label (or none)
        label = labels if len(labels) > 1 or sets_asked else labels[0] if labels else None
        yield Row(line, text, label, raw)


QUOTING_READERS = {"csv": _quoted_rows, "none": _unquoted_rows}
QUOTINGS = ("auto", *QUOTING_READERS)
FORMATS: dict[str, RowReader] = {
    "csv": _delimited_rows("csv"),
    "tsv": _delimited_rows("tsv"),
    "jsonl": _jsonl_rows,
    "fasttext": _fasttext_rows,
}
