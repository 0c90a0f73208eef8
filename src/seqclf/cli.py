"""The `seqclf` command: parses arguments, calls the public layer, prints (through `seqclf.console`).

Each sub-command imports the training side (PyTorch, the recipe, the report) when it runs, as pip
imports its commands: `seqclf predict --backend onnx` and `--help` never load PyTorch.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from seqclf.arguments import INPUT_FIELDS, check_numbers, parser
from seqclf.config import FIELD_SECTION, Config, load_preset, read_config_file
from seqclf.console import (LiteralConsole, classes_text, emphasized, headline, print_data, print_data_flow,
                            print_evaluation, print_label_issues, print_predictions, print_top_words,
                            warnings_as_lines)
from seqclf.errors import SeqclfError, WriteError
from seqclf.api import LONG_TEXT_SETTINGS, BackendConfig, TextClassifier
from seqclf.reading import input_from_argument, read_dataset, read_inputs

DATA_FIELDS = [name for name, section in FIELD_SECTION.items() if section == "data"]



def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
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
        clf.fit(texts, labels, callbacks=[ConsoleReport(out, title)])
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
    run = train_to_directory(config, args.data, args.out, valid=args.valid, test=args.test, resume=args.resume,
                             cache=False if args.no_cache else args.cache_dir or True, report=ConsoleReport(out))
    cluster = run.cluster
    if cluster.distributed:
        err.print(f"rank {cluster.rank} of {cluster.world_size}: weights {run.fingerprints[cluster.rank]}")
    if not cluster.is_main:
        return None
    if cluster.distributed:
        out.print(f"weights identical on all {cluster.world_size} processes: {run.fingerprints[0]}")
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
    return config.updated(_flags(args, FIELD_SECTION), source="command-line flags")


def _evaluate(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    if args.out:  # checked before any work
        from seqclf.runs import check_output_directory

        check_output_directory(args.out)
    model = _load(args, err)
    data = read_dataset(args.data, model.fitted.config.updated(_flags(args, DATA_FIELDS)).data)
    err.print(f"read {len(data)} examples from {args.data} ({classes_text(data.label_names(), data.multi_label)})")
    if data.skipped:  # every one of them: evaluate writes no file to list them in
        err.print(f"skipped {len(data.skipped)} bad rows:")
        for row in data.skipped:
            err.print(f"  {row.message()}")
    report = model.evaluate(data.texts, data.labels, errors=args.errors or 0)
    if data.skipped:
        report["skipped_rows"] = [row.to_dict() for row in data.skipped]
    if args.json:
        out.print_json(data=report)
    else:
        print_evaluation(out, report, model.classes_)
    if args.out:
        from seqclf.runs import write_evaluation

        for path in write_evaluation(report, args.out):
            err.print(f"wrote {path}")


def _predict(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    """One output per input, in order: an input with no text (or, with --skip-bad-rows, a malformed row)
    gets a row of its own with no label and the reason."""
    config = Config().updated({"format": args.input_format, "text_column": args.text_column,
                               **_flags(args, INPUT_FIELDS)}, source="command-line flags").data
    inputs = [input_from_argument(text, i) for i, text in enumerate(args.texts, start=1)]
    if args.input:
        inputs += read_inputs(args.input, config)
    if not inputs:
        raise SeqclfError("no texts to classify", hint="give texts as arguments, --input FILE, or --input - for stdin")
    model = _load(args, err)
    width = len(model.classes_) if args.top_k is None else min(args.top_k, len(model.classes_))
    results = model.predict_inputs(inputs, args.top_k)
    with _writing_standard_output():
        print_predictions(out, err, args.format, inputs, results, width)


def _trace(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    trace = TextClassifier.load(args.model).trace(args.text)
    if args.json:
        print(json.dumps(trace.to_dict(), ensure_ascii=False))
    else:
        out.print(trace.render())


def _explain(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    if bool(args.texts) == bool(args.data):
        raise SeqclfError("give texts to explain, or --data FILE for the top words of each class (not both)")
    model = _load(args, err)
    if args.data:
        config = Config().updated({"text_column": args.text_column, **_flags(args, INPUT_FIELDS)},
                                  source="command-line flags").data
        rows = read_inputs(args.data, config)
        texts = [row for row in rows if isinstance(row, str)]
        for row in rows:
            if not isinstance(row, str):
                err.print(f"left out: {row.message()}")
        err.print(f"explaining {len(texts)} texts of {args.data} for each of {len(model.classes_)} classes "
                  f"({args.steps} steps each)")
        report = model.top_words(texts, args.top_words, args.steps, args.min_count)
        if args.json:
            print(json.dumps(report, ensure_ascii=False))
        else:
            print_top_words(out, report)
        return
    explanations = model.explain(args.texts, args.label, args.steps)
    for i, explanation in enumerate(explanations):
        if args.json:
            print(json.dumps(explanation.to_dict(), ensure_ascii=False))
        else:
            out.print(("\n" if i else "") + explanation.render())


def _serve(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    try:
        from seqclf.server import ServeAccess, ServeLimits, create_app, serve
        from seqclf.serving_guards import read_api_key
    except ImportError as exc:
        raise SeqclfError(f"serving needs FastAPI and uvicorn ({exc.name} is missing)",
                          hint="pip install 'seqclf[serve]'") from None
    access = ServeAccess(read_api_key(args.api_key_file, os.environ), tuple(args.cors_origin))
    _check_address(args.host, args.port)  # before the model loads and before "serving ..." is printed
    limits = ServeLimits(args.max_texts, args.max_chars, args.max_body_bytes, header_timeout=args.header_timeout)
    backend = _backend(args)
    app = create_app(args.model, limits, backend, access)  # a bad model directory is a clear error here, before serving
    if access.api_key is None and not _loopback(args.host):
        err.print(f"warning: serving on {args.host} without an API key: anyone who can reach port {args.port} can "
                  "use the model (pass --api-key-file FILE or set SEQCLF_API_KEY)")
    out.print(f"serving {args.model} ({backend.describe()}) on http://{args.host}:{args.port}/ "
              f"({'API key required on /v1/*; ' if access.api_key else ''}API docs: /docs; Ctrl-C stops)")
    serve(app, args.model, args.host, args.port, args.workers, limits, backend, access, args.shutdown_timeout)


def _check_address(host: str, port: int) -> None:
    """That `host` resolves and `port` is free there, as one line each (uvicorn would log and exit 3)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise SeqclfError(f"cannot resolve the address {host!r}: {exc.strerror}", field="host",
                          hint="give an IP address (127.0.0.1, 0.0.0.0) or a name this machine resolves") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise SeqclfError(f"cannot listen on {host}:{port}: {exc.strerror}", field="port",
                              hint="another program holds that port: stop it or pass another --port") from None


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tune(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    from seqclf.report import ConsoleReport
    from seqclf.tune import tune

    config = Config().updated(_flags(args, FIELD_SECTION), source="command-line flags")
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
    from seqclf.runs import check_output_directory

    config = _train_config(args)
    check_output_directory(args.out)
    data = read_dataset(args.data, config.data)
    for row in data.skipped:
        err.print(f"skipped: {row.message()}")
    out.print(f"auditing {len(data)} examples of {args.data} ({classes_text(data.label_names())}) with "
              f"{args.folds} folds: each fold predicted by a model trained on the others")
    started = time.perf_counter()
    result = audit(data, config, args.folds, lambda fold, accuracy: out.print(
        f"fold {fold}/{args.folds}: out-of-fold accuracy {accuracy:.4f} ({time.perf_counter() - started:.0f} s)"))
    summary = result.summary
    out.print(f"{summary['issues_flagged']} of {summary['examples']} labels flagged as likely wrong (cleanlab); "
              f"out-of-fold accuracy {summary['out_of_fold_accuracy']:.4f}")
    print_label_issues(out, result.rows[: args.show])
    for path in result.write(args.out):
        out.print(f"wrote {path}")


def _export(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    model = TextClassifier.load(args.model)
    report = model.export_onnx(args.onnx, args.quantize)
    out.print(f"wrote {report.path} ({report.bytes / 1e6:.2f} MB)")
    if args.quantize:
        out.print(f"size: float32 graph {report.fp32_bytes / 1e6:.2f} MB -> {args.quantize} {report.bytes / 1e6:.2f} MB "
                  f"({report.bytes / report.fp32_bytes:.2f}x)")
    out.print(f"checked: onnx.checker passed; ONNX Runtime float32 vs PyTorch max probability difference "
              f"{report.parity_error:.1e}")
    out.print(f"inputs:  {', '.join(f'{name} int64 (batch, sequence)' for name in report.inputs)} "
              f"from {Path(args.model) / model.tokenizer_file.name} (right-padded to "
              f"{model.fitted.tokenizer.max_len})")
    out.print(f"outputs: {', '.join(f'{name} float32 (batch, {len(model.classes_)})' for name in report.outputs)}; "
              f"classes in order: {', '.join(model.classes_)}")


# -- helpers ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _writing_standard_output() -> Iterator[None]:
    """The block's output flushed; a failure to write it (a full disk under `> file`) is a WriteError."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is still buffered goes nowhere
        raise WriteError("the standard output", exc.strerror or str(exc)) from None


def _os_problem(exc: OSError) -> str:
    return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)


def _backend(args: argparse.Namespace) -> BackendConfig:
    return BackendConfig(args.backend, args.quantize, args.onnx)


def _load(args: argparse.Namespace, err: LiteralConsole) -> TextClassifier:
    backend = _backend(args)
    model = TextClassifier.load(args.model, backend)
    if backend != BackendConfig():
        err.print(f"backend: {backend.describe()}")
    reading = _flags(args, LONG_TEXT_SETTINGS)
    if reading:  # e.g. --long-text chunk for a model trained with truncation
        model = model.reading_long_texts(reading)
        err.print("long texts: " + ", ".join(f"{name} {value}" for name, value in reading.items())
                  + " (instead of the model's own)")
    return model


def _flags(args: argparse.Namespace, names: Sequence[str]) -> dict:
    """The settings among `names` given as flags."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


COMMANDS = {"demo": _demo, "train": _train, "evaluate": _evaluate, "predict": _predict, "trace": _trace,
            "explain": _explain, "audit": _audit, "serve": _serve, "export": _export, "tune": _tune}
