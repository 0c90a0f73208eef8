"""Stage 1 for predict: the texts to classify, from a file or standard input, one at a time as they are
read, one item per input row and in order (a blank or, with skip_bad_rows, a malformed row is a `BadRow`
that gets an output row of its own); texts given as arguments; the one text of a trace or explanation."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from seqclf.data.formats import FORMATS, BadRow, Blank, Row
from seqclf.data.readers import checked_row, format_of, opened
from seqclf.data.settings import DataConfig
from seqclf.data.streams import ReadProgress, lines_at_newlines, text_chunks
from seqclf.errors import DataError

LINES = "lines"  # predict's plain input: one text per line
STDIN = "-"
INPUT_SKIP_HINT = "fix the row, or pass --skip-bad-rows to give it an output row without a label"


def read_inputs(path: str | Path, config: DataConfig | None = None, stdin: BinaryIO | None = None) -> list[str | BadRow]:
    """Every input of `iter_inputs`, in a list."""
    return list(iter_inputs(path, config, stdin))


def iter_inputs(path: str | Path, config: DataConfig | None = None, stdin: BinaryIO | None = None,
                progress: ReadProgress | None = None) -> Iterator[str | BadRow]:
    """Texts to predict, one item per input row and in order, as the file is read: the text, or a `BadRow`
    for a row that gets no label (a blank text; with skip_bad_rows, a malformed row). `path` "-" reads
    `stdin` exactly as a file. The format is `config.format`, else the extension (.csv, .tsv, .jsonl),
    else one text per line."""
    config = config or DataConfig()
    if str(path) == STDIN:
        source, fmt, binary_file = "<stdin>", config.format or LINES, contextlib.nullcontext(stdin or sys.stdin.buffer)
    else:
        source, fmt, binary_file = str(path), format_of(Path(path), config.format, default=LINES), opened(Path(path))
    with binary_file as binary:
        chunks = text_chunks(binary, config.encoding, source, progress)
        for item in _inputs(chunks, fmt, config, source):
            if progress is not None:
                progress.rows += 1
            yield item


def _inputs(chunks: Iterable[str], fmt: str, config: DataConfig, source: str) -> Iterator[str | BadRow]:
    if fmt == LINES:  # one text per line: nothing but blank lines to check
        for line, raw in enumerate(lines_at_newlines(chunks, source), start=1):
            yield raw if raw.strip() else BadRow(source, line, "empty text", raw, config.text_column)
        return
    for row in FORMATS[fmt](chunks, config, source, False):
        if isinstance(row, Blank) or (isinstance(row, Row) and isinstance(row.text, str) and not row.text.strip()):
            yield BadRow(source, row.line, "empty text", row.raw, config.text_column)  # always answered
            continue
        if isinstance(row, Row):
            row = checked_row(row, config, source, require_labels=False)
        if isinstance(row, BadRow) and not config.skip_bad_rows:
            raise row.error(INPUT_SKIP_HINT)
        yield row if isinstance(row, BadRow) else row.text


def single_text(text: object) -> str:
    """The one text of a trace or an explanation: itself, or a DataError about "the text" (not "item 0")."""
    if not isinstance(text, str):
        raise DataError(f"the text is {type(text).__name__}, not str", field="text")
    if not text.strip():
        raise DataError("the text is empty: type a few words", field="text")
    return text


def input_from_argument(text: str, position: int) -> str | BadRow:
    """A text given on the command line: itself, or a BadRow if it is blank."""
    return text if text.strip() else BadRow(f"argument {position}", None, "empty text", text, "text")
