"""Stage 1's files as streams: a file's text in bounded chunks, and its lines, so that no reader holds a
whole file. What a file holds reads exactly as it did whole: a multi-byte character, a byte-order mark or
a CRLF split between two chunks is joined again, and a byte that is not of the encoding is reported at
its byte offset and line, as before.

Two ways to end a line, as the formats need them: `lines_at_newlines` (LF or CRLF only: TSV, JSONL,
fastText and plain text, where U+2028 and a lone CR may sit inside a text) and `csv_lines` (LF, CRLF or
a lone CR, with their ends, as Python's csv module reads a file opened with newline="").
"""
from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from seqclf.errors import DataError

CHUNK_BYTES = 1 << 20  # bytes read and decoded at a time


@dataclass
class ReadProgress:
    """How far a pass over a file has got: what a face shows while a long read runs."""

    total_bytes: int | None  # None: a stream of unknown length (standard input)
    bytes_read: int = 0
    rows: int = 0

    @classmethod
    def of_file(cls, path: str | Path) -> ReadProgress:
        """A pass over `path` about to begin ("-", standard input: of unknown length)."""
        try:
            size = None if str(path) == "-" else os.stat(path).st_size
        except OSError:  # reading it will say what is wrong
            size = None
        return cls(size or None)


def text_chunks(binary: BinaryIO, encoding: str, source: str, progress: ReadProgress | None = None,
                chunk_bytes: int | None = None) -> Iterator[str]:
    """The text of `binary` in pieces of about `chunk_bytes` (default CHUNK_BYTES); UTF-8 with or without a
    byte-order mark by default."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    is_utf8 = codecs.lookup(encoding).name == "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)()  # a UTF-8 byte-order mark is dropped below: offsets stay the file's
    start, newlines = 0, 0  # the file's bytes before this chunk, and the line feeds among them
    at_start = True  # no text given yet: the next may begin with the byte-order mark
    while True:
        data = binary.read(chunk_bytes)
        pending = _pending(decoder)  # bytes of the last chunk that wait for the rest of their character
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            held = pending + data
            offset = start - len(pending) + exc.start
            line = newlines - pending.count(b"\n") + held[: exc.start].count(b"\n") + 1
            name = "UTF-8" if is_utf8 else encoding
            raise DataError(
                f"not valid {name} at byte offset {offset} (byte 0x{held[exc.start]:02x})", path=source, line=line,
                hint="pass the file's encoding, e.g. --encoding cp1252 or --encoding utf-16, or re-save it as UTF-8",
            ) from None
        start, newlines = start + len(data), newlines + data.count(b"\n")
        if progress is not None:
            progress.bytes_read = start
        if text:
            yield text.removeprefix("\ufeff") if is_utf8 and at_start else text
            at_start = False
        if not data:
            return


def _pending(decoder: codecs.IncrementalDecoder) -> bytes:
    state = decoder.getstate()[0]
    return state if isinstance(state, bytes) else b""


def not_blank(chunks: Iterable[str], source: str) -> Iterator[str]:
    """`chunks` as they are; a file with nothing but white space is an error, raised before the first piece."""
    chunks = iter(chunks)
    held = []
    for chunk in chunks:
        held.append(chunk)
        if not chunk.isspace():
            break
    else:
        raise DataError("file is empty", path=source, hint="give a file with a header row and data rows")
    yield from held
    yield from chunks


def lines_at_newlines(chunks: Iterable[str], source: str) -> Iterator[str]:
    """The lines of the text, without their ends: lines end at LF (or CRLF) only; a last empty line is no line.
    A first line holding a carriage return is a file with classic Mac OS line endings: an error, raised as
    soon as it is seen (such a file is one endless first line)."""
    carried, first = "", True
    for chunk in chunks:
        pieces = (carried + chunk).split("\n")
        carried = pieces.pop()
        if first:  # a partial first line's last character may be the CR of a CRLF
            if "\r" in (pieces[0].removesuffix("\r") if pieces else carried[:-1]):
                raise _mac_line_endings(source)
            first = not pieces
        for line in pieces:
            yield line.removesuffix("\r")
    if carried:
        if first and "\r" in carried.removesuffix("\r"):
            raise _mac_line_endings(source)
        yield carried.removesuffix("\r")


def _mac_line_endings(source: str) -> DataError:
    return DataError("line 1 holds carriage returns (CR) without a line feed: the file's lines end with CR "
                     "alone (classic Mac OS), which seqclf does not read as line ends",
                     path=source, line=1, hint="convert its line endings to LF, e.g. tr '\\r' '\\n' < FILE > FIXED")


def csv_lines(chunks: Iterable[str]) -> Iterator[str]:
    """The lines of the text with their ends, split at LF, CRLF or a lone CR, as a file opened with newline=""
    reads: what the csv module needs to find line breaks inside quoted fields."""
    carried = ""
    for chunk in chunks:
        text = carried + chunk
        if text.endswith("\r"):  # perhaps the first half of a CRLF: wait for the next piece
            text, carried = text[:-1], "\r"
        else:
            carried = ""
        lines = io.StringIO(text, newline="").readlines()
        if lines and not lines[-1].endswith(("\n", "\r")):
            carried = lines.pop() + carried
        yield from lines
    if carried:
        yield carried
