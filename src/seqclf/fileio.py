"""File system helpers every writer shares: an exclusive lock on a directory path."""
from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from seqclf.errors import ModelDirError

_held: dict[Path, int] = {}  # lock file -> how many times this process holds it (the lock is reentrant)


def lock_path(directory: Path) -> Path:
    """The lock file of a directory: beside it, so that replacing the directory does not move the lock."""
    return directory.parent / f".{directory.name}.lock"


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory` (an absolute path, existing or not) until the block ends.

    Another process that asks for it fails at once with a `ModelDirError` naming the holder. The lock
    is the kernel's (flock) on a file beside the directory, so it is released when this process exits
    or crashes, whatever state it leaves behind; the file itself is removed on a normal release.
    """
    path = lock_path(directory)
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    descriptor = _acquire(path, directory)
    _held[path] = 1
    try:
        yield
    finally:
        del _held[path]
        with contextlib.suppress(OSError):
            path.unlink()  # still under the lock: a process waiting on this inode re-checks it (see _acquire)
        os.close(descriptor)


def _acquire(path: Path, directory: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 4096).decode("utf-8", "replace").strip() or "another process"
            os.close(descriptor)
            raise ModelDirError(f"is in use by another seqclf process ({holder})", path=directory,
                                hint="wait for it to finish, or choose another --out") from None
        # The holder before us may have removed the file while we waited for its lock: then ours is a lock
        # on a file nobody else can see, and we start again with the file now at `path`.
        try:
            same = os.stat(path).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"pid {os.getpid()}: seqclf {' '.join(sys.argv[1:])}".encode())
            return descriptor
        os.close(descriptor)
