"""File I/O every writer shares: atomic writes of a file, of several files or of a whole directory,
SHA-256 digests, fsync, and an exclusive lock on a directory path.

Model directories, resume checkpoints, reports, the corpus cache and exported graphs are all written
through here, so each is either the old version or the new one, never a mixture, whatever crashes
when. A write that fails (a full disk, a read-only file system: the OS's error or a library's report
of it) is a `WriteError` naming the file and saying what is as it was; it leaves no temporary file
and no empty directory behind.
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

from safetensors import SafetensorError

from seqclf.errors import ModelDirError, WriteError

_held: dict[Path, int] = {}  # lock file -> how many times this process holds it (the lock is reentrant)


def lock_path(directory: Path) -> Path:
    """The lock file of a directory: beside it, so that replacing the directory does not move the lock."""
    return directory.parent / f".{directory.name}.lock"


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory` (an absolute path, existing or not) until the block ends.

    Another process that asks for it fails at once with a `ModelDirError` naming the holder. The lock
    is the kernel's (flock) on a file beside the directory, so it is released when this process exits
    or crashes, whatever state it leaves behind; the file itself is removed on a normal release, and so
    are the directories made for it if nothing was written into them.
    """
    path = lock_path(directory)
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    made = _missing_directories(path.parent)
    try:
        with naming_failures(path, "nothing was written"):
            descriptor = _acquire(path, directory)
    except BaseException:
        _remove_empty(made)
        raise
    _held[path] = 1
    try:
        yield
    finally:
        del _held[path]
        with contextlib.suppress(OSError):
            path.unlink()  # still under the lock: a process waiting on this inode re-checks it (see _acquire)
        os.close(descriptor)
        _remove_empty(made)  # made for the lock and left empty: the work under it failed


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
            with contextlib.suppress(OSError):  # who holds it, for the message of a process refused: a full disk
                os.ftruncate(descriptor, 0)     # may refuse this note, not the lock
                os.write(descriptor, f"pid {os.getpid()}: seqclf {' '.join(sys.argv[1:])}".encode())
            return descriptor
        os.close(descriptor)


def resolved(path: Path, field: str = "out") -> Path:
    """The real path of `path` (symbolic links followed), or a `ModelDirError` naming `field` when it
    cannot be followed (a loop of links; Python raises RuntimeError or OSError, by version)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise ModelDirError(f"cannot follow its symbolic links ({exc})", path=path, field=field,
                            hint=f"give --{field} a real directory, or fix the links") from None


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


Writer = Callable[[Path], None]  # writes one file at the path it is given


def write_failure_cause(exc: BaseException) -> str | None:
    """Why a write failed, when `exc` is a failed write (the OS's error, or a library's report of it,
    such as safetensors'); None for anything else, which stays the error it is."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, SafetensorError):
        return str(exc)
    return None


@contextlib.contextmanager
def naming_failures(path: Path, kept: str) -> Iterator[None]:
    """A failed write in the block becomes a `WriteError` naming `path` and saying what `kept` is."""
    try:
        yield
    except WriteError:
        raise
    except Exception as exc:
        cause = write_failure_cause(exc)
        if cause is None:
            raise
        raise WriteError(path, cause, kept) from exc


def write_file_atomically(path: Path, write: Writer) -> None:
    """`write(temporary)` writes the file beside `path`; it is then fsynced and renamed over `path`. A
    failure is a `WriteError` naming `path`; it leaves `path` as it was, no temporary file, and no
    directory that this call made."""
    kept = "the previous one is as it was" if path.exists() else "no file was written"
    with removing_new_directories(path.parent), naming_failures(path, kept):
        temporary = _temporary_beside(path)
        try:
            _write_durably(temporary, write)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        fsync_directory(path.parent)


def write_files_atomically(directory: Path, writers: dict[str, Writer]) -> list[Path]:
    """Each `writers[name]` writes the file `name` of `directory`: all are written beside their places
    first, then renamed into them, so a failure (a `WriteError` naming the file) replaces none of them
    and leaves no temporary file and no directory that this call made. The paths, in order."""
    paths = [directory / name for name in writers]
    kept = "none of the files was written" + ("" if directory.exists() else f"; {directory} was not created")
    with removing_new_directories(directory):
        temporaries: list[Path] = []
        try:
            for path, write in zip(paths, writers.values()):
                with naming_failures(path, kept):
                    temporaries.append(_temporary_beside(path))
                    _write_durably(temporaries[-1], write)
            for temporary, path in zip(temporaries, paths):
                os.replace(temporary, path)
        except BaseException:
            for temporary in temporaries:
                temporary.unlink(missing_ok=True)
            raise
        fsync_directory(directory)
    return paths


def _temporary_beside(path: Path) -> Path:
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    return Path(name)


def _write_durably(path: Path, write: Writer) -> None:
    write(path)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)  # like any other file the user writes (mkstemp makes it private)


@contextlib.contextmanager
def removing_new_directories(directory: Path) -> Iterator[None]:
    """Make `directory` and its missing parents; if the block fails, remove those it made that are
    still empty (a failed write leaves no empty directory behind)."""
    made = _missing_directories(directory)
    try:
        with naming_failures(directory, f"{made[0]} was not created" if made else f"{directory} is as it was"):
            directory.mkdir(parents=True, exist_ok=True)
        yield
    except BaseException:
        _remove_empty(made)
        raise


def _missing_directories(directory: Path) -> list[Path]:
    """`directory` and its parents that do not exist, outermost first."""
    return [parent for parent in (*reversed(directory.parents), directory) if not parent.exists()]


def _remove_empty(directories: list[Path]) -> None:
    for directory in reversed(directories):
        with contextlib.suppress(OSError):
            directory.rmdir()  # only if empty


def replace_directory(target: Path, writers: dict[str, Writer], carry: Callable[[str], bool] = lambda name: False,
                      durable: bool = True) -> None:
    """Build the directory `target` in a staging folder beside it, `writers[name]` writing its file
    `name`, then swap it in whole, by renames. Entries of the old `target` for which `carry(name)` is
    true move into the new one first. A failure (a `WriteError` naming the file, when it is a failed
    write) leaves `target` as it was, no staging folder, and no directory that this call made.
    `durable`: fsync every file first."""
    kept = f"{target} is as it was" if target.exists() else f"{target} was not created"
    with removing_new_directories(target.parent):
        with naming_failures(target, kept):
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            for name, write in writers.items():
                with naming_failures(target / name, kept):
                    _write_durably(staging / name, write) if durable else write(staging / name)
            with naming_failures(target, kept):
                if durable:
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
