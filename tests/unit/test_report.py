"""The training report: a live line in a terminal; plain lines in a file or pipe, one at least every
QUIET_AT_MOST seconds while an epoch or a phase runs; phases named once they last; the resumed table
marks each epoch as the uninterrupted run did; one chart for a whole ensemble."""
import io
import re
import time

from seqclf import phase_watch, report
from seqclf.console import LiteralConsole
from seqclf.data.readers import read_dataset
from seqclf.data.streams import ReadProgress
from seqclf.report import ConsoleReport
from seqclf.training.events import PHASES, FoldFinished, MemberStarted, PhaseStarted
from seqclf.training.history import EpochRecord, History
from seqclf.training.trainer import Progress


def console(terminal: bool) -> tuple[LiteralConsole, io.StringIO]:
    buffer = io.StringIO()
    return LiteralConsole(file=buffer, force_terminal=terminal, width=200), buffer


def record(epoch: int, accuracy: float, member: int = 0) -> EpochRecord:
    return EpochRecord(epoch, 0.5, 0.8, 0.6, accuracy, 1.0, 1000.0, 1e-3, member)


def test_a_pipe_gets_plain_progress_lines_with_rate_and_eta(monkeypatch):
    monkeypatch.setattr(report, "QUIET_AT_MOST", 0.0)  # a line at every step
    out, buffer = console(terminal=False)
    run = ConsoleReport(out)
    run.on_event(MemberStarted(1, 3, 1013, epochs=10, examples=6400))
    run.on_epoch_begin(5, steps=200)
    run.on_step_end(50, 0.4321)
    text = buffer.getvalue()
    assert "epoch 5/10 · model 2/3: 50/200 batches" in text and "texts/s, loss 0.4321, ETA 0:00:" in text
    assert "\x1b" not in text and "\r" not in text


def test_a_terminal_gets_one_live_line_with_done_total_and_eta(monkeypatch):
    monkeypatch.setattr(report, "REDRAW_EVERY", 0.0)  # redrawn at every step
    out, buffer = console(terminal=True)
    run = ConsoleReport(out)
    run.on_event(MemberStarted(0, 1, 13, epochs=3, examples=640))
    run.on_epoch_begin(2, steps=20)
    run.on_step_end(5, 0.25)
    run.progress.refresh()
    shown = buffer.getvalue()
    run.close()
    assert "epoch 2/3" in shown and "5/20" in shown and "texts/s" in shown and "ETA" in shown


def test_a_long_phase_is_named_then_said_again_while_it_lasts(monkeypatch):
    monkeypatch.setattr(phase_watch, "ANNOUNCE_AFTER", 0.05)
    monkeypatch.setattr(phase_watch, "QUIET_AT_MOST", 0.1)
    out, buffer = console(terminal=False)
    run = ConsoleReport(out)
    run.on_event(PhaseStarted("ngram_evidence"))
    time.sleep(0.4)
    run.on_event(PhaseStarted("calibration"))  # ends the first; this one ends before it is named
    run.on_event(PhaseStarted("finished"))
    time.sleep(0.1)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "fitting the n-gram evidence …"
    assert len(lines) >= 3 and all(line.startswith("fitting the n-gram evidence: 0:00:00 so far") for line in lines[1:])
    assert not any("calibrating" in line for line in lines)


def test_a_long_prediction_is_named_while_it_runs(monkeypatch):
    monkeypatch.setattr(phase_watch, "ANNOUNCE_AFTER", 0.05)
    monkeypatch.setattr(phase_watch, "QUIET_AT_MOST", 0.1)
    out, buffer = console(terminal=False)
    with phase_watch.watching(out, "classifying 100,000 texts"):
        time.sleep(0.3)
    with phase_watch.watching(out, "classifying 3 texts"):
        pass  # ends before it is named
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "classifying 100,000 texts …" and len(lines) >= 2
    assert all(line.startswith("classifying 100,000 texts: 0:00:00 so far") for line in lines[1:])


def test_folds_and_trials_are_phases_and_a_fold_says_how_it_went(monkeypatch):
    monkeypatch.setattr(phase_watch, "ANNOUNCE_AFTER", 0.05)
    out, buffer = console(terminal=False)
    run = ConsoleReport(out)
    run.on_event(PhaseStarted("fold"))
    time.sleep(0.2)
    run.on_event(FoldFinished(1, 5, 0.8125, 12.4))
    run.on_event(PhaseStarted("trial"))
    time.sleep(0.2)
    run.close()
    assert buffer.getvalue().splitlines() == ["training a fold's model and predicting its held-out part …",
                                              "fold 1/5: out-of-fold accuracy 0.8125 (12 s)",
                                              "running a trial of the search …"]


def test_every_phase_has_its_words():
    assert set(report.PHASE_WORDS) == set(PHASES) - {"finished"}


def test_the_resumed_table_marks_each_epoch_as_it_was_marked():
    out, buffer = console(terminal=False)
    records = [record(1, 0.70), record(2, 0.75), record(3, 0.72)]
    ConsoleReport(out).on_resume(Progress(epoch=4, history=History(records)))
    rows = [line.split()[0:2] for line in buffer.getvalue().splitlines() if line.strip()[:1].isdigit()]
    assert rows == [["1", "*"], ["2", "*"], ["3", "0.5000"]]


def test_an_ensemble_gets_one_chart_after_its_last_model():
    out, buffer = console(terminal=False)
    run = ConsoleReport(out)
    for member in range(3):
        run.on_event(MemberStarted(member, 3, 13 + member, epochs=2, examples=100))
        run.on_train_end(History([record(1, 0.7, member), record(2, 0.8, member)]))
    assert buffer.getvalue().count("loss per epoch") == 1


def test_interruption_says_where_the_run_and_its_checkpoint_stood():
    out, _ = console(terminal=False)
    run = ConsoleReport(out)
    run.on_event(MemberStarted(0, 1, 13, epochs=5, examples=100))
    run.on_epoch_begin(3, steps=10)
    run.on_step_end(4, 0.3)
    run.on_checkpoint(Progress(epoch=3, step=0))
    assert run.interruption() == (3, 4, (3, 0))


def test_a_pass_over_a_file_says_bytes_rows_rate_and_time_left(monkeypatch, tmp_path):
    """Reading a training file: the phase's lines say how far the read has got, from the reader's own count."""
    monkeypatch.setattr(phase_watch, "ANNOUNCE_AFTER", 0.05)
    monkeypatch.setattr(phase_watch, "QUIET_AT_MOST", 0.1)
    out, buffer = console(terminal=False)
    progress = ReadProgress(total_bytes=4_000_000)
    run = ConsoleReport(out)
    run.on_event(PhaseStarted("reading", progress))
    progress.bytes_read, progress.rows = 1_000_000, 20_000
    time.sleep(0.12)
    progress.bytes_read, progress.rows = 2_000_000, 40_000
    time.sleep(0.15)
    run.on_event(PhaseStarted("finished"))
    lines = buffer.getvalue().splitlines()
    assert len(lines) >= 2 and all(line.startswith("reading and encoding the data: ") for line in lines)
    assert re.fullmatch(r".*: 2\.0 MB of 4\.0 MB \(50%\), 40,000 rows, [\d,]+ rows/s, 0:00:00 left", lines[-1])
    written = tmp_path / "t.tsv"
    written.write_text("text\tlabel\n" + "a fine film\tpos\n" * 1000)
    read = ReadProgress.of_file(written)
    read_dataset(written, progress=read)
    assert (read.bytes_read, read.total_bytes, read.rows) == (written.stat().st_size,) * 2 + (1000,)


def test_each_model_of_an_ensemble_is_announced_with_its_recipe_and_seed():
    out, buffer = console(terminal=False)
    run = ConsoleReport(out)
    run.on_event(MemberStarted(1, 2, 1013, epochs=10, examples=100, recipe="fast"))
    run.on_event(MemberStarted(0, 3, 13, epochs=10, examples=100))
    text = buffer.getvalue()
    assert "sequence model 2 of 2 (fast, seed 1013)" in text and "sequence model 1 of 3 (seed 13)" in text
