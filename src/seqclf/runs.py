"""Whole runs, as `seqclf train` and `seqclf demo` do them: from files to a model directory.

Every input file and the output directory are checked before any work; the directory stays locked
(`seqclf.fileio.locked`) until the model is written. Under `torchrun`, every process runs this;
rank 0 reports, writes the checkpoints and the model directory.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from seqclf import artifacts, model_files
from seqclf.api import TextClassifier
from seqclf.config import Config
from seqclf.text.cache import CorpusCache, default_cache_dir
from seqclf.data.demo import demo_corpus
from seqclf.text.encoded import EncodedData, check_known_labels, encode_data
from seqclf.data.formats import BadRow
from seqclf.data.readers import check_readable, read_dataset
from seqclf.data.streams import ReadProgress
from seqclf.errors import SeqclfError, WriteError
from seqclf.fileio import locked, resolved, write_files_atomically
from seqclf.data_flow import DataFlow
from seqclf.training.checkpoint import has_checkpoint
from seqclf.training.distributed import Cluster, join_cluster, leave_cluster
from seqclf.training.events import ClusterJoined, DataEncoded, PhaseStarted, RunReport
from seqclf.training.recipe import load_files

__all__ = ["TrainingRun", "train_to_directory", "writing", "demo_corpus", "RunReport", "write_evaluation",
           "check_output_directory", "write_report_files", "EVALUATION_FILES"]

# What `seqclf evaluate --out DIR` writes: the report as JSON, and its two pictures.
EVALUATION_FILES = {"report": "report.json", "confusion_matrix": "confusion_matrix.png", "reliability": "reliability.png"}


@dataclass
class TrainingRun:
    """A training run from files: the model (its `cluster` and `fitted.fingerprints` say where it ran), the
    directory written, and, on rank 0, what the run read and how the model did on the test file."""

    classifier: TextClassifier
    directory: Path  # the model directory written (by rank 0)
    # on rank 0 only (None or empty elsewhere):
    data_flow: DataFlow | None  # of the training data
    skipped: list[BadRow]  # rows left out of the training, validation and test files
    test: EncodedData | None
    test_report: dict | None

    @property
    def skipped_rows_file(self) -> Path:
        return self.directory / model_files.SKIPPED_ROWS


def write_evaluation(report: dict, out: str | Path) -> list[Path]:
    """An evaluation report's files in the directory `out`: the JSON report, the confusion matrix and
    the reliability diagram (a multi-label report: the JSON report alone; it has neither)."""
    from seqclf.training.metric_plots import save_confusion_matrix_png, save_reliability_png

    writers = {EVALUATION_FILES["report"]: lambda path: path.write_text(json.dumps(report, indent=2, ensure_ascii=False)
                                                                        + "\n", "utf-8")}
    if "confusion_matrix" in report:
        writers[EVALUATION_FILES["confusion_matrix"]] = lambda path: save_confusion_matrix_png(report, path)
        writers[EVALUATION_FILES["reliability"]] = lambda path: save_reliability_png(report["calibration"], path)
    return write_report_files(out, writers)


def write_report_files(out: str | Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Each `writers[name](path)` writes the file `name` in the directory `out` (made if missing; checked
    by `check_output_directory`): all of them or, on a failure, none; the paths written, in order."""
    return write_files_atomically(check_output_directory(out), writers)


def check_output_directory(out: str | Path) -> Path:
    """`out` as a directory for a report's files (`write_evaluation`, an audit): checked before the work runs."""
    directory = resolved(Path(out))
    if directory.exists() and not directory.is_dir():
        raise SeqclfError("is a file, not a directory", path=directory, field="out",
                          hint="give a directory for the files")
    return directory


@contextlib.contextmanager
def writing(out: str | Path) -> Iterator[Path]:
    """The real path of a model directory to write, checked (`artifacts.check_output`) and locked."""
    directory = artifacts.check_output(out)
    with locked(directory):
        yield directory


def train_to_directory(config: Config, data: str | Path, out: str | Path, *, valid: str | Path | None = None,
                       test: str | Path | None = None, cache: str | Path | bool = True, resume: bool = False,
                       report: RunReport | None = None) -> TrainingRun:
    """Train on a file, write the model directory `out`, evaluate on `test`. `cache`: True for the
    default cache directory, False for none, or a directory. `report` (rank 0 only) is told about the
    data read and follows the training."""
    for path in (data, valid, test):
        if path is not None:
            check_readable(path, config.data)
    directory = artifacts.check_output(out)
    cluster = join_cluster(config.train.device)  # under torchrun: this process's rank; else a cluster of one
    try:
        with locked(directory) if cluster.is_main else contextlib.nullcontext():
            run = _train(config, data, directory, valid, test, _cache(cache), resume, cluster,
                         report if cluster.is_main and report is not None else RunReport())
        # every process leaves together, once rank 0 has written and evaluated the model: a process whose gloo
        # group is torn down while another still holds it was seen to abort at exit
        cluster.barrier()
        return run
    except WriteError as exc:
        raise _what_is_kept(exc, directory) from exc
    finally:
        leave_cluster()


def _what_is_kept(failure: WriteError, directory: Path) -> WriteError:
    """A failed write of a training run, saying too what it leaves in the model directory."""
    kept = [failure.kept]
    if failure.path.parent == directory and artifacts.is_model_dir(directory):
        kept.append(f"the model in {directory} is as it was")
    if has_checkpoint(directory):
        kept.append(f"{directory} keeps the last checkpoint written: make room, then run the same command with "
                    "--resume to continue from it")
    return WriteError(failure.path, failure.cause, "; ".join(kept))


def _train(config: Config, data: str | Path, directory: Path, valid: str | Path | None, test: str | Path | None,
           cache: CorpusCache, resume: bool, cluster: Cluster, report: RunReport) -> TrainingRun:
    if has_checkpoint(directory) and not resume:
        raise SeqclfError("holds the checkpoint of an unfinished training run", path=directory,
                          hint=f"pass --resume to continue it, or delete {directory / model_files.CHECKPOINT} to "
                               "start afresh")
    report.on_event(ClusterJoined(cluster, config.train.batch_size))
    progress = ReadProgress.of_file(data)
    report.on_event(PhaseStarted("reading", progress))
    tokenizer, train_data, valid_data = load_files(config, cache, cluster, data, valid, progress)
    # a bad test file fails now, before training; label sets in the training data: its labels are sets too
    test_data = read_dataset(test, config.data.reading_for(train_data.task)) if test is not None else None
    for encoded in (train_data, valid_data):
        if encoded is not None:
            report.on_event(DataEncoded(encoded))
    if test_data is not None:
        check_known_labels(test_data.label_names(), train_data.label_names, test_data.source)
    clf = TextClassifier(config).fit_encoded(tokenizer, train_data, valid_data, cluster=cluster, callbacks=[report],
                                             checkpoint_dir=directory, resume=resume)
    if not cluster.is_main:  # rank 0 writes the model directory and evaluates
        return TrainingRun(clf, directory, None, [], None, None)
    skipped = [*train_data.skipped, *(valid_data.skipped if valid_data else []),
               *(test_data.skipped if test_data else [])]
    report.on_event(PhaseStarted("saving"))
    clf.save(directory, skipped_rows=skipped)
    report.on_event(PhaseStarted("data_flow"))
    flow = clf.data_flow_encoded(train_data.corpus)
    report.on_event(PhaseStarted("test"))
    encoded_test = encode_data(test_data, clf.tokenizer) if test_data is not None else None
    test_report = None if encoded_test is None else clf.evaluate_encoded(encoded_test)
    report.on_event(PhaseStarted("finished"))
    return TrainingRun(clf, directory, flow, skipped, encoded_test, test_report)


def _cache(cache: str | Path | bool) -> CorpusCache:
    if cache is False:
        return CorpusCache(None)
    return CorpusCache(default_cache_dir() if cache is True else Path(cache))
