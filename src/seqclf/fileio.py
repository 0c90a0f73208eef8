"""File I/O every writer shares: atomic writes of a file or a whole directory, SHA-256 digests, fsync,
and an exclusive lock on a directory path.

Model directories, resume checkpoints, the corpus cache and exported graphs are all written through
here, so each is either the old version or the new one, never a mixture, whatever crashes when.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
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


def sha256_of(path: Path) -> str:
    """The file's SHA-256, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def digest_arrays(arrays: Iterable[tuple[str, str, tuple[int, ...], bytes]]) -> str:
    """"sha256:..." of named arrays (name, dtype, shape, raw bytes), in name order: a model's weights
    fingerprint, the same whether the arrays come from PyTorch or straight from a safetensors file."""
    digest = hashlib.sha256()
    for name, dtype, shape, data in sorted(arrays, key=lambda array: array[0]):
        digest.update(f"{name}:{dtype}:{shape};".encode())
        digest.update(data)
    return "sha256:" + digest.hexdigest()


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new entry in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_file_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """`write(temporary)` writes the file beside `path`; it is then fsynced and renamed over `path`.
    A failure leaves `path` as it was and no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    temporary = Path(name)
    try:
        write(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # like any other file the user writes (mkstemp makes it private)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


@contextlib.contextmanager
def replacing_directory(target: Path, carry: Callable[[str], bool] = lambda name: False,
                        durable: bool = True) -> Iterator[Path]:
    """Build a directory in the staging folder this yields (beside `target`); when the block ends
    without an error, the staging folder replaces `target` whole, by renames. Entries of the old
    `target` for which `carry(name)` is true move into the new one first. On an error, or a failure
    to swap, `target` is as it was and the staging folder is gone. `durable`: fsync every file first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
        if durable:
            for entry in staging.iterdir():
                with open(entry, "rb") as handle:
                    os.fsync(handle.fileno())
            fsync_directory(staging)
        _swap_in(staging, target, carry)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, target: Path, carry: Callable[[str], bool]) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    carried = [entry.name for entry in target.iterdir() if carry(entry.name)]
    _move(carried, target, staging)
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    try:
        os.replace(target, retired / "previous")
        try:
            os.replace(staging, target)
        except OSError:
            os.replace(retired / "previous", target)  # put the previous directory back
            raise
    except OSError:
        _move(carried, staging, target)  # and the carried entries with it
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)


def _move(names: list[str], source: Path, target: Path) -> None:
    for name in names:
        os.replace(source / name, target / name)
