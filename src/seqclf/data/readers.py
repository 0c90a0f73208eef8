"""Stage 1, raw text: CSV / TSV / JSONL / fastText files and Python lists -> (texts, labels).

Every problem names the file, the line and the field. Malformed rows stop the read, unless
`skip_bad_rows` is set; then each one is kept as a `BadRow` (line, problem, the row as it stands)
for the caller to report: never dropped silently.

TSV means tab-separated lines (the IANA definition, and the layout of the GLUE and SentEval files):
a quotation mark is an ordinary character unless `quoting` says csv. CSV follows RFC 4180 quoting.
Lines end at \\n or \\r\\n only (and, inside CSV quoting, where the csv module says), never at
U+2028 and the like, which may sit inside a text.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from seqclf.config import FORMATS, DataConfig
from seqclf.errors import DataError

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
QUOTING = {"csv": "csv", "tsv": "none"}  # what quoting=auto means for each delimited format
FASTTEXT_PREFIX = "__label__"
LINES = "lines"  # predict's plain input: one text per line
STDIN = "-"
SKIP_HINT = "fix the row, or pass --skip-bad-rows to skip such rows"
INPUT_SKIP_HINT = "fix the row, or pass --skip-bad-rows to give it an output row without a label"


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
class Dataset:
    """Texts with their labels (labels are None for unlabeled input), and the rows skipped."""

    texts: list[str]
    labels: list[str] | None
    source: str
    skipped: list[BadRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def select(self, indices: Sequence[int], source: str | None = None) -> Dataset:
        labels = None if self.labels is None else [self.labels[i] for i in indices]
        return Dataset([self.texts[i] for i in indices], labels, source or self.source)


@dataclass
class _Row:
    line: int
    text: object  # a str once checked; JSON may hold anything
    label: object
    raw: str


@dataclass
class _Blank:
    """A line with nothing on it: no row of a data set, but an (empty) input to predict."""

    line: int
    raw: str


def format_of(path: Path, format: str | None, default: str | None = None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise DataError(f"unknown format {format!r}", field="format", hint="choose one of: " + ", ".join(FORMATS))
        return format
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None or (default is not None and found == "fasttext"):
        if default is not None:
            return default
        raise DataError(
            f"cannot tell the format from the extension {path.suffix!r}",
            path=path,
            hint="use a .csv/.tsv/.jsonl/.txt name or pass --format " + "|".join(FORMATS),
        )
    return found


def check_readable(path: str | Path, config: DataConfig) -> None:
    """Fail now, before any work, if `path` is not a readable file of a known format."""
    path = Path(path)
    format_of(path, config.format)
    with _reading(path):
        open(path, "rb").close()


def read_dataset(path: str | Path, config: DataConfig | None = None, *, require_labels: bool = True) -> Dataset:
    """Read a labeled (or, with require_labels=False, possibly unlabeled) data file."""
    config = config or DataConfig()
    path = Path(path)
    fmt = format_of(path, config.format)
    content = _decode(_read_bytes(path), config.encoding, str(path))
    if not content.strip():
        raise DataError("file is empty", path=path, hint="give a file with a header row and data rows")
    rows = _ROW_READERS[fmt](content, config, str(path), require_labels)
    return _collect(rows, str(path), config, require_labels)


def read_inputs(path: str | Path, config: DataConfig | None = None, stdin: BinaryIO | None = None) -> list[str | BadRow]:
    """Texts to predict, one item per input row and in order: the text, or a `BadRow` for a row that
    gets no label (a blank text; with skip_bad_rows, a malformed row). `path` "-" reads `stdin`
    exactly as a file. The format is `config.format`, else the extension (.csv, .tsv, .jsonl), else
    one text per line."""
    config = config or DataConfig()
    if str(path) == STDIN:
        source, raw = "<stdin>", (stdin or sys.stdin.buffer).read()
        fmt = config.format or LINES
    else:
        source, raw = str(path), _read_bytes(Path(path))
        fmt = format_of(Path(path), config.format, default=LINES)
    content = _decode(raw, config.encoding, source)
    rows = _lines_as_rows(content) if fmt == LINES else _ROW_READERS[fmt](content, config, source, False)
    inputs: list[str | BadRow] = []
    for row in rows:
        if isinstance(row, _Blank) or (isinstance(row, _Row) and isinstance(row.text, str) and not row.text.strip()):
            inputs.append(BadRow(source, row.line, "empty text", row.raw, config.text_column))  # always answered
            continue
        if isinstance(row, _Row):
            row = _checked(row, config, source, require_labels=False)
        if isinstance(row, BadRow) and not config.skip_bad_rows:
            raise row.error(INPUT_SKIP_HINT)
        inputs.append(row if isinstance(row, BadRow) else row.text)
    return inputs


def input_from_argument(text: str, position: int) -> str | BadRow:
    """A text given on the command line: itself, or a BadRow if it is blank."""
    return text if text.strip() else BadRow(f"argument {position}", None, "empty text", text, "text")


def dataset_from_lists(texts: Sequence[str], labels: Sequence[object] | None, source: str = "input") -> Dataset:
    """Check Python lists the way files are checked; labels become strings."""
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
    out = []
    for i, label in enumerate(labels):
        if not isinstance(label, (str, int)) or isinstance(label, bool) or str(label).strip() == "":
            raise DataError(f"item {i} ({label!r}) is not a class name", field="labels", path=source,
                            hint="labels are non-empty strings or integers")
        out.append(str(label))
    return Dataset(texts, out, source)


def _read_bytes(path: Path) -> bytes:
    with _reading(path):
        return path.read_bytes()


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


def _decode(raw: bytes, encoding: str, source: str) -> str:
    """The file's text; UTF-8 with or without a byte-order mark by default."""
    is_utf8 = codecs.lookup(encoding).name == "utf-8"
    try:
        return raw.decode("utf-8-sig" if is_utf8 else encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        name = "UTF-8" if is_utf8 else encoding
        raise DataError(
            f"not valid {name} at byte offset {exc.start} (byte 0x{raw[exc.start]:02x})", path=source, line=line,
            hint="pass the file's encoding, e.g. --encoding cp1252 or --encoding utf-16, or re-save it as UTF-8",
        ) from None


def _collect(rows: Iterator[_Row | _Blank | BadRow], source: str, config: DataConfig,
             require_labels: bool) -> Dataset:
    texts: list[str] = []
    labels: list[str | None] = []
    skipped: list[BadRow] = []
    for row in rows:
        if isinstance(row, _Blank):
            continue  # a blank line is not a row
        if isinstance(row, _Row):
            row = _checked(row, config, source, require_labels)
        if isinstance(row, BadRow):
            if not config.skip_bad_rows:
                raise row.error()
            skipped.append(row)
            continue
        texts.append(row.text)
        labels.append(row.label)
    if not texts:
        problem = "no usable rows" + (f" ({len(skipped)} bad rows skipped)" if skipped else "")
        raise DataError(problem, path=source, hint="the file holds a header or bad rows only")
    has_labels = all(label is not None for label in labels)
    if require_labels and not has_labels:
        raise DataError("rows without a label", path=source)
    return Dataset(texts, labels if has_labels else None, source, skipped)


def _checked(row: _Row, config: DataConfig, source: str, require_labels: bool) -> _Row | BadRow:
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
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        return bad(f"label is {type(label).__name__}, not a class name", label_field)
    if str(label).strip() == "":
        return bad("empty label", label_field)
    return _Row(row.line, text, str(label).strip(), row.raw)


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
            raise DataError(f"no column {config.label_column!r} in the header (columns: {', '.join(names)})",
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
        raise DataError(f"no column {column!r} in the header (columns: {', '.join(names)})", path=source, line=1,
                        field=column, hint=hint)

    def row(self, line: int, values: list[str], raw: str, source: str, hint: str | None) -> _Row | BadRow:
        if len(values) != self.width:
            return BadRow(source, line, f"{len(values)} fields, the header has {self.width}", raw, hint=hint)
        return _Row(line, values[self.text_at], values[self.label_at] if self.label_at is not None else None, raw)


def _delimited_rows(fmt: str):
    def read(content: str, config: DataConfig, source: str, require_labels: bool) -> Iterator[_Row | _Blank | BadRow]:
        delimiter = config.delimiter or DELIMITERS[fmt]
        quoting = QUOTING[fmt] if config.quoting == "auto" else config.quoting
        rows = _quoted_rows if quoting == "csv" else _unquoted_rows
        return rows(content, config, source, delimiter, require_labels)

    return read


def _quoted_rows(content: str, config: DataConfig, source: str, delimiter: str,
                 require_labels: bool) -> Iterator[_Row | _Blank | BadRow]:
    """RFC 4180: a field in quotation marks may hold the delimiter, line breaks and doubled quotes."""
    # newline="": rows end at \n, \r\n or \r only, never at U+2028 and the like inside a text
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    physical: list[str] | None = None  # the file's lines as the reader counts them, for raw rows

    def raw_lines(first: int, last: int) -> str:
        nonlocal physical
        physical = physical if physical is not None else io.StringIO(content, newline="").readlines()
        return "".join(physical[first - 1 : last]).rstrip("\r\n")

    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataError(f"cannot parse the header: {exc} (read with --quoting csv)", path=source, line=1,
                        hint="if quotation marks are ordinary text in this file, pass --quoting none") from None
    columns = _Columns(header, config, source, delimiter, require_labels)
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raw = raw_lines(line, reader.line_num)
            unquoted_fits = len(raw.split("\n")[0].split(delimiter)) == columns.width
            yield BadRow(source, line, f"malformed row: {exc} (read with --quoting csv, where '\"' starts a quoted "
                         "field)", raw, hint="pass --quoting none: quotation marks are then ordinary text"
                         if unquoted_fits else None)
            continue
        raw = raw_lines(line, reader.line_num)
        if not values or (len(values) == 1 and not values[0].strip()):
            yield _Blank(line, raw)
            continue
        yield columns.row(line, values, raw, source, None)


def _unquoted_rows(content: str, config: DataConfig, source: str, delimiter: str,
                   require_labels: bool) -> Iterator[_Row | _Blank | BadRow]:
    """Each line a row, fields split at every delimiter; quotation marks are ordinary characters."""
    lines = iter(enumerate(_lines(content), start=1))
    _, header = next(lines, (1, ""))
    columns = _Columns(header.split(delimiter), config, source, delimiter, require_labels)
    for line, raw in lines:
        if not raw.strip():
            yield _Blank(line, raw)
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


def _lines(content: str) -> list[str]:
    """Lines end at \\n (or \\r\\n) only: U+2028, U+0085 and friends may sit inside a JSON string or a text."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _lines_as_rows(content: str) -> Iterator[_Row | _Blank]:
    for line, raw in enumerate(_lines(content), start=1):
        yield _Row(line, raw, None, raw) if raw.strip() else _Blank(line, raw)


def _jsonl_rows(content: str, config: DataConfig, source: str, require_labels: bool) -> Iterator[_Row | _Blank | BadRow]:
    for line, raw in enumerate(_lines(content), start=1):
        if not raw.strip():
            yield _Blank(line, raw)
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
        yield _Row(line, record[config.text_column], record.get(config.label_column), raw)


def _fasttext_rows(content: str, config: DataConfig, source: str,
                   require_labels: bool) -> Iterator[_Row | _Blank | BadRow]:
    for line, raw in enumerate(_lines(content), start=1):
        if not raw.strip():
            yield _Blank(line, raw)
            continue
        words = raw.split()
        labels = [w[len(FASTTEXT_PREFIX):] for w in words if w.startswith(FASTTEXT_PREFIX)]
        text = " ".join(w for w in words if not w.startswith(FASTTEXT_PREFIX))
        if len(labels) > 1:
            yield BadRow(source, line, f"{len(labels)} labels; seqclf classifies into exactly one class", raw, "label")
            continue
        if not labels and require_labels:
            yield BadRow(source, line, f"no {FASTTEXT_PREFIX}NAME label", raw, "label")
            continue
        yield _Row(line, text, labels[0] if labels else None, raw)


_ROW_READERS = {
    "csv": _delimited_rows("csv"),
    "tsv": _delimited_rows("tsv"),
    "jsonl": _jsonl_rows,
    "fasttext": _fasttext_rows,
}
