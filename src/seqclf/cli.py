"""The `seqclf` command: parses arguments, calls the public layer, prints (through `seqclf.console`). The
sub-commands that train are here; those that read a saved model are in `seqclf.model_commands`.

Each sub-command imports the training side (PyTorch, the recipe, the report) when it runs, as pip
imports its commands: `seqclf predict --backend onnx` and `--help` never load PyTorch.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from seqclf import threads

threads.start_measuring()  # first: other processes' CPU use is watched while the modules below load

from seqclf.arguments import check_numbers, parser  # noqa: E402
from seqclf.config import FIELD_SECTION, Config, load_preset, read_config_file
from seqclf.console import (LiteralConsole, classes_text, emphasized, headline, print_data, print_data_flow,
                            print_label_issues, warnings_as_lines)
from seqclf.errors import SeqclfError, WriteError
from seqclf.api import TextClassifier
from seqclf.model_commands import MODEL_COMMANDS, flags
from seqclf.reading import read_dataset



def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    threads.settle_wait_policy()  # before a command loads PyTorch
    args.argv = list(sys.argv[1:] if argv is None else argv)
    width = None if sys.stdout.isatty() else 120  # logs and pipes get wide tables, not 80 columns
    out = LiteralConsole(width=width)
    err = LiteralConsole(stderr=True)
    try:
        with warnings_as_lines(err):
            check_numbers(args)
            return COMMANDS[args.command](args, out, err) or 0
    except SeqclfError as exc:
        err.print(f"error: {exc}")
        return 2
    except BrokenPipeError:  # e.g. `seqclf predict ... | head`
        return 0
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except OSError as exc:  # the machine, not the input: a full disk, an unwritable directory
        err.print(f"error: {exc if isinstance(exc, WriteError) else _os_problem(exc)}")  # WriteError: what is kept
        return 1


def _os_problem(exc: OSError) -> str:
    return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)



# -- sub-commands -----------------------------------------------------------------------------------


def _demo(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    from seqclf.report import ConsoleReport
    from seqclf.runs import demo_corpus, writing

    started = time.perf_counter()
    with writing(args.out) as directory:  # checked and locked before any work
        texts, labels = demo_corpus()
        words = [len(text.split()) for text in texts]
        out.print(emphasized("demo corpus", f": {len(texts)} sentences in 3 classes (positive, negative, neutral), "
                                            f"{min(words)}-{max(words)} words"))
        clf = TextClassifier(Config.from_dict(load_preset("classic")), valid_fraction=0.2)
        title = emphasized("training trace", " (classic setup: max_len 10, embedding 50, LSTM 64)")
        clf.fit(texts, labels, callbacks=[ConsoleReport(out, title)], progress=False)
        out.print()
        print_data_flow(out, clf.data_flow(texts))
        for text in ("I love this movie", "This is bad"):
            out.print()
            out.print(clf.trace(text).render())
        clf.save(directory)
    shown = args.out
    out.print(f"\nmodel saved to {shown}; try: seqclf trace {shown} \"what a wonderful film\", or seqclf serve {shown}")
    out.print(f"demo finished in {time.perf_counter() - started:.1f} s")


def _train(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> int | None:
    from seqclf.report import ConsoleReport
    from seqclf.runs import train_to_directory

    config = _train_config(args)
    if args.nproc is not None:
        return _launch_torchrun(args, err)
    report = ConsoleReport(out)
    try:
        with _sigterm_as_interrupt():
            run = train_to_directory(config, args.data, args.out, valid=args.valid, test=args.test,
                                     resume=args.resume, cache=False if args.no_cache else args.cache_dir or True,
                                     report=report)
    except KeyboardInterrupt as stop:
        err.print(_interrupted_text(args, *report.interruption()))
        return 128 + getattr(stop, "signal", signal.SIGINT)
    finally:
        report.close()
    cluster, fingerprints = run.classifier.cluster, run.classifier.fitted.fingerprints
    if cluster.distributed:
        err.print(f"rank {cluster.rank} of {cluster.world_size}: weights {fingerprints[cluster.rank]}")
    if not cluster.is_main:
        return None
    if cluster.distributed:
        out.print(f"weights identical on all {cluster.world_size} processes: {fingerprints[0]}")
    if run.classifier.vectors_coverage is not None:
        out.print(f"pretrained vectors ({config.train.vectors}): {run.classifier.vectors_coverage}")
    out.print()
    print_data_flow(out, run.data_flow)
    link = f" (a symbolic link: written to {run.directory})" if Path(args.out).is_symlink() else ""
    out.print(f"model saved to {args.out}{link}")
    if run.skipped:
        out.print(f"skipped {len(run.skipped)} bad rows in all: each is listed in "
                  f"{Path(args.out) / run.skipped_rows_file.name}")
    if run.test is not None:
        print_data(out, run.test)
        out.print(f"test: {headline(run.test_report)}")
    return None


class _Terminated(KeyboardInterrupt):
    signal = signal.SIGTERM


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a training run as Ctrl-C does (the checkpoint stays, the message says how to resume)."""
    def stop(signum: int, frame: object) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted_text(args: argparse.Namespace, epoch: int, step: int, checkpoint: tuple[int, int] | None) -> str:
    where = f"interrupted at epoch {epoch}, step {step}" if epoch else "interrupted before the first epoch"
    if checkpoint is None:
        return (f"{where}: no checkpoint was written yet (one is written after the first epoch that ends "
                f"--checkpoint-seconds after the start; 0 writes one after every epoch); run the command again")
    kept = (f"the checkpoint after epoch {checkpoint[0] - 1}" if checkpoint[1] == 0
            else f"the checkpoint of epoch {checkpoint[0]} at step {checkpoint[1]}")
    argv = [arg for arg in args.argv if arg != "--resume"]
    return f"{where}: {kept} is kept in {args.out}; continue with: {shlex.join(['seqclf', *argv, '--resume'])}"


def _launch_torchrun(args: argparse.Namespace, err: LiteralConsole) -> int:
    """`seqclf train --nproc N ...` is `torchrun --standalone --nproc_per_node N -m seqclf train ...`."""
    if "WORLD_SIZE" in os.environ:
        raise SeqclfError("is for launching; this process was already started by torchrun", field="nproc",
                          hint="leave --nproc out under torchrun")
    argv = [arg for i, arg in enumerate(args.argv)  # without `--nproc N` or `--nproc=N`
            if not (arg == "--nproc" or arg.startswith("--nproc=") or (i and args.argv[i - 1] == "--nproc"))]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}",
               "-m", "seqclf", *argv]
    err.print(f"launching: torchrun --standalone --nproc_per_node={args.nproc} -m seqclf {' '.join(argv)}")
    return subprocess.run(command).returncode


def _train_config(args: argparse.Namespace) -> Config:
    config = Config()
    if args.preset and args.preset != "none":
        config = config.updated(load_preset(args.preset), source=f"preset {args.preset}")
    if args.config:
        config = config.updated(read_config_file(args.config), source=str(args.config))
    return config.updated(flags(args, FIELD_SECTION), source="command-line flags")


def _tune(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    from seqclf.report import ConsoleReport
    from seqclf.tune import tune

    config = Config().updated(flags(args, FIELD_SECTION), source="command-line flags")
    result = tune(config, args.data, args.valid, args.out, args.budget, trials=args.trials, metric=args.metric,
                  seed=args.search_seed, ensemble=args.final_ensemble,
                  cache=False if args.no_cache else args.cache_dir or True,
                  report=ConsoleReport(out, emphasized("final model", " (the best settings)")))
    out.print(f"search: {result.trials} trials finished ({result.completed} complete), {result.new or 'none'} of them "
              f"in this run, {result.search_seconds:.0f} s; best validation {args.metric} {result.best_value:.4f}; "
              f"settings in {Path(args.out) / 'best.yaml'}")
    out.print(f"model saved to {Path(args.out) / 'model'}")


def _audit(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    from seqclf.audit import audit
    from seqclf.report import ConsoleReport
    from seqclf.runs import check_output_directory

    config = _train_config(args)
    check_output_directory(args.out)
    data = read_dataset(args.data, config.data)
    for row in data.skipped:
        err.print(f"skipped: {row.message()}")
    out.print(f"auditing {len(data)} examples of {args.data} ({classes_text(data.label_names())}) with "
              f"{args.folds} folds: each fold predicted by a model trained on the others")
    report = ConsoleReport(out)
    try:
        result = audit(data, config, args.folds, report)
    finally:
        report.close()
    summary = result.summary
    out.print(f"{summary['issues_flagged']} of {summary['examples']} labels flagged as likely wrong (cleanlab); "
              f"out-of-fold accuracy {summary['out_of_fold_accuracy']:.4f}")
    print_label_issues(out, result.rows[: args.show])
    for path in result.write(args.out):
        out.print(f"wrote {path}")


def _distill(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    from seqclf.distill import DistillConfig, distill, save_student, student_config
    from seqclf.report import ConsoleReport
    from seqclf.runs import check_output_directory

    teacher = TextClassifier.load(args.teacher)
    config = student_config(teacher.config, args.preset)
    if args.config:
        config = config.updated(read_config_file(args.config), source=str(args.config))
    config = config.updated(flags(args, FIELD_SECTION), source="command-line flags")
    check_output_directory(args.out)
    data = read_dataset(args.data, teacher.config.data)
    valid = read_dataset(args.valid, teacher.config.data) if args.valid else None
    for row in [*data.skipped, *(valid.skipped if valid else [])]:
        err.print(f"skipped: {row.message()}")
    settings = DistillConfig(args.copies, args.drop, args.shuffle)
    out.print(f"distilling {args.teacher} into one {config.model.encoder} model: {len(data)} texts of {args.data} "
              f"and {settings.copies} perturbed copies of each, answered by the teacher")
    report = ConsoleReport(out)
    try:
        distilled = distill(teacher, data, valid, config, settings, [report])
    finally:
        report.close()
    if distilled.agreement is not None:
        out.print(f"validation accuracy: teacher {distilled.teacher_accuracy:.4f}, student "
                  f"{distilled.student_accuracy:.4f}; the student gives the teacher's answer on "
                  f"{distilled.agreement:.1%} of the validation texts")
    out.print(f"model saved to {save_student(distilled, args.out)}")


COMMANDS = {"demo": _demo, "train": _train, "audit": _audit, "tune": _tune, "distill": _distill, **MODEL_COMMANDS}
