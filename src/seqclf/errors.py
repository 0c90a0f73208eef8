"""Errors a user can fix. Every one is a ValueError whose message is one line (control characters in the
data it quotes are escaped); the CLI prints it and exits 2."""
from __future__ import annotations

from pathlib import Path

from seqclf.printable import printable, shortened

PROBLEM_LIMIT = 1000  # characters of a problem shown: it may quote a whole line of data


class SeqclfError(ValueError):
    """Base class: a clear message saying what is wrong, where, and what to do."""

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem, self.path, self.line, self.field, self.hint = problem, path, line, field, hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        if self.field is not None:
            where += f"field '{self.field}': "
        text = where + shortened(self.problem, PROBLEM_LIMIT)
        if self.hint:
            text += f" ({self.hint})"
        return printable(text)  # one line, whatever the data quoted in it holds


class DataError(SeqclfError):
    """A data file or a list of texts/labels cannot be used."""


class ConfigError(SeqclfError):
    """A setting is unknown or out of range."""


class ModelDirError(SeqclfError):
    """A model directory is missing, incomplete, or inconsistent."""


class SeqclfWarning(UserWarning):
    """Something went wrong that seqclf worked around (e.g. a damaged cache entry, rebuilt); the CLI prints
    it as one line."""


class WriteError(OSError):
    """A file could not be written (a full disk, a read-only file system, no permission): which file,
    why, and what is as it was. An OSError, as the failure it reports; the CLI prints it on one line
    and exits 1."""

    def __init__(self, path: str | Path, cause: str, kept: str = "") -> None:
        self.path, self.cause, self.kept = path, cause, kept
        super().__init__(printable(f"cannot write {path}: {cause}" + (f"; {kept}" if kept else "")))

    def __str__(self) -> str:
        return self.args[0]
