"""Stage 1, raw text: CSV / TSV / JSONL / fastText files and Python lists -> (texts, labels).

Every problem names the file, the line and the field. Malformed rows stop the read, unless
`skip_bad_rows` is set; then they are counted and reported, never dropped silently.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
FASTTEXT_PREFIX = "__label__"


@dataclass
class Dataset:
    """Texts with their labels (labels are None for unlabeled input)."""

    texts: list[str]
    labels: list[str] | None
    source: str
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)  # "line N: problem", the first few

    def __len__(self) -> int:
        return len(self.texts)

    def select(self, indices: Sequence[int], source: str | None = None) -> Dataset:
        labels = None if self.labels is None else [self.labels[i] for i in indices]
        return Dataset([self.texts[i] for i in indices], labels, source or self.source)


@dataclass
class _Row:
    line: int
    text: str
    label: str | None


@dataclass
class _BadRow:
    line: int
    problem: str
    field: str | None = None


def format_of(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise DataError(f"unknown format {format!r}", field="format", hint="choose one of: " + ", ".join(FORMATS))
        return format
    try:
        return EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise DataError(
            f"cannot tell the format from the extension {path.suffix!r}",
            path=path,
            hint="use a .csv/.tsv/.jsonl/.txt name or pass --format " + "|".join(FORMATS),
        ) from None


def read_dataset(path: str | Path, config: DataConfig | None = None, *, require_labels: bool = True) -> Dataset:
    """Read a labeled (or, with require_labels=False, possibly unlabeled) data file."""
    config = config or DataConfig()
    path = Path(path)
    fmt = format_of(path, config.format)
    content = _read_utf8(path)
    if not content.strip():
        raise DataError("file is empty", path=path, hint="give a file with a header row and data rows")
    rows = _ROW_READERS[fmt](content, config, require_labels, path)
    return _collect(rows, str(path), config.skip_bad_rows, require_labels)


def read_lines(path: str | Path) -> list[str]:
    """Unlabeled texts, one per non-blank line (for `predict --input file.txt` and stdin)."""
    path = Path(path)
    return [line for line in _lines(_read_utf8(path)) if line.strip()]


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


def _read_utf8(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a data file", path=path) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=path) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})", path=path, line=line, hint="re-save the file as UTF-8"
        ) from None


def _collect(rows: Iterator[_Row | _BadRow], source: str, skip_bad_rows: bool, require_labels: bool) -> Dataset:
    texts: list[str] = []
    labels: list[str | None] = []
    skipped: list[str] = []
    for row in rows:
        if isinstance(row, _BadRow):
            if not skip_bad_rows:
                raise DataError(row.problem, path=source, line=row.line, field=row.field,
                                hint="fix the row, or pass --skip-bad-rows to skip such rows")
            skipped.append(f"line {row.line}: {row.problem}")
            continue
        texts.append(row.text)
        labels.append(row.label)
    if not texts:
        problem = "no usable rows" + (f" ({len(skipped)} bad rows skipped)" if skipped else "")
        raise DataError(problem, path=source, hint="the file holds a header or bad rows only")
    has_labels = all(label is not None for label in labels)
    if require_labels and not has_labels:
        raise DataError("rows without a label", path=source)
    return Dataset(texts, labels if has_labels else None, source, len(skipped), skipped[:5])


def _checked(line: int, text: object, label: object, text_field: str, label_field: str,
             require_labels: bool) -> _Row | _BadRow:
    if not isinstance(text, str):
        return _BadRow(line, f"text is {type(text).__name__}, not a string", text_field)
    if not text.strip():
        return _BadRow(line, "empty text", text_field)
    if label is None:
        return _BadRow(line, "missing label", label_field) if require_labels else _Row(line, text, None)
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        return _BadRow(line, f"label is {type(label).__name__}, not a class name", label_field)
    if str(label).strip() == "":
        return _BadRow(line, "empty label", label_field)
    return _Row(line, text, str(label).strip())


def _delimited_rows(delimiter: str):
    def read(content: str, config: DataConfig, require_labels: bool, path: Path) -> Iterator[_Row | _BadRow]:
        # newline="": rows end at \n, \r\n or \r only, never at U+2028 and the like inside a text
        reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise DataError(f"cannot parse the header: {exc}", path=path, line=1) from None
        header = [name.strip() for name in header]
        if config.text_column not in header:
            raise DataError(f"no column {config.text_column!r} in the header (columns: {', '.join(header)})",
                            path=path, line=1, field=config.text_column, hint="pass --text-column NAME")
        text_at = header.index(config.text_column)
        label_at = header.index(config.label_column) if config.label_column in header else None
        if label_at is None and require_labels:
            raise DataError(f"no column {config.label_column!r} in the header (columns: {', '.join(header)})",
                            path=path, line=1, field=config.label_column, hint="pass --label-column NAME")
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _BadRow(line, f"malformed row: {exc}")
                continue
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank line
            if len(values) != len(header):
                yield _BadRow(line, f"{len(values)} fields, the header has {len(header)}")
                continue
            label = values[label_at] if label_at is not None else None
            yield _checked(line, values[text_at], label, config.text_column, config.label_column, require_labels)

    return read


def _lines(content: str) -> list[str]:
    """Lines end at \n (or \r\n) only: U+2028, U+0085 and friends may sit inside a JSON string or a text."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _jsonl_rows(content: str, config: DataConfig, require_labels: bool, path: Path) -> Iterator[_Row | _BadRow]:
    for line, raw in enumerate(_lines(content), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield _BadRow(line, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            yield _BadRow(line, f"expected a JSON object, got {type(record).__name__}")
            continue
        if config.text_column not in record:
            yield _BadRow(line, "missing key", config.text_column)
            continue
        yield _checked(line, record[config.text_column], record.get(config.label_column), config.text_column,
                       config.label_column, require_labels)


def _fasttext_rows(content: str, config: DataConfig, require_labels: bool, path: Path) -> Iterator[_Row | _BadRow]:
    for line, raw in enumerate(_lines(content), start=1):
        if not raw.strip():
            continue
        words = raw.split()
        labels = [w[len(FASTTEXT_PREFIX):] for w in words if w.startswith(FASTTEXT_PREFIX)]
        text = " ".join(w for w in words if not w.startswith(FASTTEXT_PREFIX))
        if len(labels) > 1:
            yield _BadRow(line, f"{len(labels)} labels; seqclf classifies into exactly one class", "label")
            continue
        if not labels and require_labels:
            yield _BadRow(line, f"no {FASTTEXT_PREFIX}NAME label", "label")
            continue
        yield _checked(line, text, labels[0] if labels else None, "text", "label", require_labels)


_ROW_READERS = {
    "csv": _delimited_rows(","),
    "tsv": _delimited_rows("\t"),
    "jsonl": _jsonl_rows,
    "fasttext": _fasttext_rows,
}
