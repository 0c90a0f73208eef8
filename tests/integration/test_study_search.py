"""A study that turns read-only while a real search runs keeps its finished trials (a whole search: it trains
a model per trial, so it lives with the integration tests)."""
import optuna
import pytest

from seqclf.config import Config
from seqclf.errors import WriteError
from seqclf.training.events import RunReport, TrialFinished
from seqclf.tune import STUDY, tune


def test_a_study_that_turns_read_only_while_trials_run_keeps_them(tmp_path, tiny_files, each_connection):
    """Read-only from the second trial on: SQLite's own refusal, forced with `PRAGMA query_only` (the tests
    may run as root, whom a chmod does not stop)."""
    class ReadOnlyAfterTheFirstTrial(RunReport):
        def on_event(self, event):
            if isinstance(event, TrialFinished):
                each_connection("PRAGMA query_only = ON")

    out = tmp_path / "tuned"
    with pytest.raises(WriteError) as refusal:
        tune(Config(), *tiny_files, out, trials=3, ensemble=1, cache=False, report=ReadOnlyAfterTheFirstTrial())
    message = str(refusal.value)
    assert message.startswith(f"cannot write {out / STUDY}: attempt to write a readonly database")
    assert "the trials finished so far are kept in it" in message and "run the same command again" in message
    study = optuna.load_study(study_name="seqclf", storage=f"sqlite:///{out / STUDY}")
    assert [t.state.name for t in study.trials] == ["COMPLETE"]  # the first trial, kept; the second never began
