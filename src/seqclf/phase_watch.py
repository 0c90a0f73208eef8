"""A long step named while it runs: once it has run `ANNOUNCE_AFTER` seconds, then every `QUIET_AT_MOST`
seconds until it ends, so that a log never goes quiet for longer (training's phases between epochs, a
search's trials, an audit's folds, classifying a large file). Imports no PyTorch: the ONNX Runtime path uses it."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from rich.console import Console

ANNOUNCE_AFTER = 2.0  # seconds a phase runs before it is named
QUIET_AT_MOST = 9.0  # seconds between two lines of a file or pipe while something runs (10 at most, with a margin)


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@contextlib.contextmanager
def watching(console: Console, words: str) -> Iterator[None]:
    """A long step outside training (e.g. classifying a large file), named as `PhaseWatch` names phases."""
    watch = PhaseWatch(console, words)
    try:
        yield
    finally:
        watch.end()


class PhaseWatch:
    """Names a phase once it has run ANNOUNCE_AFTER seconds, then every QUIET_AT_MOST seconds, until it ends."""

    def __init__(self, console: Console, words: str) -> None:
        self.console, self.words, self.started = console, words, time.monotonic()
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="seqclf-phase", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        if self._ended.wait(ANNOUNCE_AFTER):
            return
        self.console.print(f"{self.words} …")
        while not self._ended.wait(QUIET_AT_MOST):
            self.console.print(f"{self.words}: {clock(time.monotonic() - self.started)} so far")

    def end(self) -> None:
        self._ended.set()
        self._thread.join()
