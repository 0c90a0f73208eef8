"""The search's study file (`seqclf tune`'s OUT/study.db): opened with Optuna's SQLite storage once it is
known to be a study, and every failure to open or use it made one line naming the file, the cause and
what to do.

SQLite's own messages say what went wrong (they are fixed strings, the same in every version): a
damaged file or one that is no database, a write that failed (a full disk, a read-only file), a file
another process holds. Optuna and SQLAlchemy wrap them; `study_error` finds them in the chain.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from seqclf.errors import SeqclfError, WriteError

STUDY_NAME = "seqclf"
OPTUNA_TABLES = {"studies", "alembic_version"}  # tables every Optuna storage has
DAMAGED = ("file is not a database", "database disk image is malformed", "malformed database schema")
UNWRITABLE = ("database or disk is full", "disk I/O error", "attempt to write a readonly database")
IN_USE = ("database is locked", "database table is locked")
KEPT = ("the trials finished so far are kept in it: make room or make the file and its directory writable, then "
        "run the same command again to resume")


def open_study(optuna, path: Path, direction: str, sampler, pruner, first_trial: dict | None = None):
    """The study of `path`, created when the file is new (or empty), `first_trial`'s parameters queued:
    a file that is not an Optuna study is refused, never written into. A new study that cannot be created
    leaves no file behind."""
    _check_is_a_study(path)
    new = not path.exists()
    try:
        with study_errors(path, kept="no study was written" if new else KEPT):
            try:
                storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
            except RuntimeError as exc:  # Optuna's check of the schema's version
                raise SeqclfError(f"holds a study of another Optuna version ({exc})", path=path,
                                  hint="do as that says, or choose another --out") from None
            study = optuna.create_study(study_name=STUDY_NAME, storage=storage, load_if_exists=True,
                                        direction=direction, sampler=sampler, pruner=pruner)
            if first_trial is not None and not study.trials:
                study.enqueue_trial(first_trial)
            return study
    except BaseException:
        if new:
            for debris in (path, path.with_name(path.name + "-journal")):
                debris.unlink(missing_ok=True)
        raise


@contextmanager
def study_errors(path: Path, kept: str = KEPT) -> Iterator[None]:
    """Errors of the study's SQLite file raised inside, as `study_error` says them; others as they are."""
    try:
        yield
    except (SeqclfError, WriteError):
        raise
    except Exception as exc:
        error = study_error(exc, path, kept)
        if error is None:
            raise
        raise error from exc


def study_error(exc: BaseException, path: Path, kept: str = KEPT) -> SeqclfError | WriteError | None:
    """What to tell of `exc`, raised while the study in `path` was opened or used (None: it is not SQLite's);
    `kept`: what a failed write leaves of the study."""
    cause = _sqlite_cause(exc)
    if cause is None:
        return None
    said = str(cause)
    if said.startswith(DAMAGED):
        return SeqclfError(f"is damaged or not an SQLite database ({said})", path=path,
                           hint="delete it to start the search afresh, or choose another --out")
    if said.startswith(UNWRITABLE):
        return WriteError(path, said, kept)
    if said.startswith(IN_USE):
        return SeqclfError(f"is in use by another process ({said})", path=path,
                           hint="wait for the other `seqclf tune` with this --out to end, or choose another --out")
    return SeqclfError(f"cannot use the study ({said})", path=path,
                       hint="check that you may read and write it and its directory, or choose another --out")


def _check_is_a_study(path: Path) -> None:
    """`path` is absent, empty, or an SQLite file with Optuna's tables. Only read (opened read-write, not
    read-only, so that SQLite rolls back what a killed run left half-written, as Optuna's own opening would)."""
    if not path.exists():
        return
    if not path.is_file():
        raise SeqclfError("is not a file", path=path, hint="move it away, or choose another --out")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise study_error(exc, path) from None
    if tables and not OPTUNA_TABLES <= tables:
        raise SeqclfError(f"is an SQLite database of another program (its tables: {', '.join(sorted(tables))}), "
                          "not an Optuna study", path=path, hint="move it away, or choose another --out")


def _sqlite_cause(exc: BaseException) -> sqlite3.Error | None:
    """The SQLite error among `exc` and its causes (Optuna wraps SQLAlchemy's, which wraps SQLite's)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, sqlite3.Error):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None
