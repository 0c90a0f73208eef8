"""A long step named while it runs: once it has run `ANNOUNCE_AFTER` seconds, then every `QUIET_AT_MOST`
seconds until it ends, so that a log never goes quiet for longer (training's phases between epochs, a
search's trials, an audit's folds, classifying a large file). Imports no PyTorch: the ONNX Runtime path uses it."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from seqclf.reading import ReadProgress

ANNOUNCE_AFTER = 2.0  # seconds a phase runs before it is named
QUIET_AT_MOST = 9.0  # seconds between two lines of a file or pipe while something runs (10 at most, with a margin)


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@contextlib.contextmanager
def watching(console: Console, words: str, progress: ReadProgress | None = None) -> Iterator[None]:
    """A long step outside training (e.g. classifying a large file), named as `PhaseWatch` names phases;
    `progress`: how far its pass over a file has got, said each time."""
    watch = PhaseWatch(console, words, progress)
    try:
        yield
    finally:
        watch.end()


class PhaseWatch:
    """Names a phase once it has run ANNOUNCE_AFTER seconds, then every QUIET_AT_MOST seconds, until it ends."""

    def __init__(self, console: Console, words: str, progress: ReadProgress | None = None) -> None:
        self.console, self.words, self.started = console, words, time.monotonic()
        self.progress = progress
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="seqclf-phase", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        if self._ended.wait(ANNOUNCE_AFTER):
            return
        self.console.print(f"{self.words} …" if self.progress is None else self._progress_line())
        while not self._ended.wait(QUIET_AT_MOST):
            self.console.print(f"{self.words}: {clock(time.monotonic() - self.started)} so far"
                               if self.progress is None else self._progress_line())

    def _progress_line(self) -> str:
        return f"{self.words}: {read_progress_text(self.progress, time.monotonic() - self.started)}"

    def end(self) -> None:
        self._ended.set()
        self._thread.join()


def read_progress_text(progress: ReadProgress, seconds: float) -> str:
    """How far a pass over a file has got: bytes of the total, rows, rate and the time left."""
    rate = progress.rows / seconds if seconds > 0 else 0.0
    done = f"{progress.rows:,} rows, {rate:,.0f} rows/s"
    if not progress.total_bytes:
        return f"{_bytes_text(progress.bytes_read)} read, {done}"
    share = progress.bytes_read / progress.total_bytes
    left = f", {clock(seconds * (1 - share) / share)} left" if 0 < share < 1 else ""
    return f"{_bytes_text(progress.bytes_read)} of {_bytes_text(progress.total_bytes)} ({share:.0%}), {done}{left}"


def _bytes_text(count: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"
