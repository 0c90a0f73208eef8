"""The study file of `seqclf tune`: whatever is at OUT/study.db, and whatever happens to it while trials
run, the answer is one `SeqclfError` naming the file, the cause and what to do, never SQLAlchemy's."""
import logging
import os
import sqlite3
import subprocess
import sys
from contextlib import closing

import optuna
import pytest

from seqclf.config import Config
from seqclf.errors import SeqclfError, WriteError
from seqclf.study import open_study, study_errors
from seqclf.tune import STUDY, tune


def opened(path, direction="maximize"):
    return open_study(optuna, path, direction, optuna.samplers.RandomSampler(seed=0), optuna.pruners.NopPruner())


def sqlite_file(path, *statements):
    with closing(sqlite3.connect(path)) as db:
        for statement in statements:
            db.execute(statement)
        db.commit()


def damage_random(path):
    path.write_bytes(os.urandom(3000))


def damage_text(path):
    path.write_text("not a database\n" * 40)


def damage_truncated(path):
    opened(path).optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    data = path.read_bytes()
    path.write_bytes(data[:100] + os.urandom(len(data) - 100))  # SQLite's header, pages of noise


@pytest.mark.parametrize("damage", [damage_random, damage_text, damage_truncated])
def test_a_damaged_study_is_one_line_naming_it(tmp_path, damage):
    path = tmp_path / STUDY
    damage(path)
    with pytest.raises(SeqclfError) as refusal:
        opened(path)
    message = str(refusal.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "damaged or not an SQLite database" in message and "delete it" in message and "--out" in message


def test_an_empty_file_becomes_a_new_study(tmp_path):
    path = tmp_path / STUDY
    path.write_bytes(b"")  # SQLite reads an empty file as an empty database
    assert opened(path).trials == []


@pytest.mark.parametrize("statements, tables", [
    (["CREATE TABLE notes (x TEXT)"], "notes"),  # Optuna would add its tables beside it, in silence
    (["CREATE TABLE studies (x TEXT)"], "studies"),  # Optuna's name, not its schema
])
def test_an_sqlite_file_of_another_program_is_refused_and_left_as_it_was(tmp_path, statements, tables):
    path = tmp_path / STUDY
    sqlite_file(path, *statements)
    before = path.read_bytes()
    with pytest.raises(SeqclfError, match=f"another program \\(its tables: {tables}\\), not an Optuna study"):
        opened(path)
    assert path.read_bytes() == before


def test_a_study_of_another_optuna_schema_is_one_line(tmp_path):
    path = tmp_path / STUDY
    opened(path)
    sqlite_file(path, "UPDATE alembic_version SET version_num = 'v99.0.0'")
    with pytest.raises(SeqclfError, match="holds a study of another Optuna version") as refusal:
        opened(path)
    assert str(refusal.value).startswith(f"{path}: ") and "\n" not in str(refusal.value)


def test_a_study_a_killed_run_left_half_written_opens_with_its_trials(tmp_path):
    """A process killed inside a write leaves a hot journal: opening the study rolls it back (a read-only
    look at the file would fail with SQLITE_READONLY_ROLLBACK and call the study unwritable)."""
    path = tmp_path / STUDY
    opened(path).optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=5)
    killed = ("import os, sqlite3, sys\n"
              "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
              "db.execute('PRAGMA cache_size = 1'); db.execute('BEGIN EXCLUSIVE')\n"
              "db.execute('DELETE FROM trial_params'); db.execute('DELETE FROM trials')\n"
              "os._exit(0)  # as if killed: no rollback, no commit\n")
    subprocess.run([sys.executable, "-c", killed, str(path)], check=True)
    assert path.with_name(STUDY + "-journal").stat().st_size > 0
    assert len(opened(path).trials) == 5


def test_a_directory_is_not_a_study(tmp_path):
    (tmp_path / STUDY).mkdir()
    with pytest.raises(SeqclfError, match="is not a file"):
        opened(tmp_path / STUDY)


def test_a_full_disk_says_the_trials_are_kept_and_how_to_resume(tmp_path, each_connection):
    path = tmp_path / STUDY
    study = opened(path)
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    each_connection("PRAGMA max_page_count = 1")  # SQLite's own "database or disk is full" on the next page
    with pytest.raises(WriteError) as refusal, study_errors(path):
        study.optimize(lambda trial: trial.set_user_attr("notes", "x" * 100_000) or 0.5, n_trials=1)
    message = str(refusal.value)
    assert message.startswith(f"cannot write {path}: database or disk is full") and "\n" not in message
    assert "the trials finished so far are kept in it" in message and "run the same command again" in message


def test_a_search_of_another_metric_is_not_continued(tmp_path, tiny_files):
    out = tmp_path / "tuned"
    out.mkdir()
    opened(out / STUDY, "minimize")  # a study of the loss
    with pytest.raises(SeqclfError) as refusal:
        tune(Config(), *tiny_files, out, trials=1, metric="accuracy", ensemble=1, cache=False)
    assert str(refusal.value) == (f"{out / STUDY}: field 'metric': holds a search of the validation loss, not the "
                                  "accuracy (give --metric loss to go on with it, or choose another --out)")


def test_a_trial_that_fails_is_its_own_one_line_error_without_optunas_traceback(tmp_path, tiny_files, monkeypatch):
    def diverging(*args, **kwargs):
        raise SeqclfError("the training loss is nan at epoch 1, step 3", field="lr")

    logged = []
    handler = logging.Handler()
    handler.emit = logged.append
    logging.getLogger("optuna").addHandler(handler)
    monkeypatch.setattr("seqclf.tune.fit", diverging)
    try:
        with pytest.raises(SeqclfError, match="the training loss is nan"):
            tune(Config(), *tiny_files, tmp_path / "tuned", trials=1, ensemble=1, cache=False)
    finally:
        logging.getLogger("optuna").removeHandler(handler)
    assert [record.getMessage() for record in logged if record.exc_info] == []  # "Trial 0 failed ...", traceback
