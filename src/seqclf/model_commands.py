"""The sub-commands that read a saved model: `evaluate`, `predict`, `trace`, `explain`, `export` and
`serve`. Each loads it as one `TextClassifier` (with the backend and long-text flags given) and prints
through `seqclf.console`; `serve` hands it to `seqclf.server`."""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from seqclf.api import LONG_TEXT_SETTINGS, BackendConfig, TextClassifier
from seqclf.model_arguments import INPUT_FIELDS
from seqclf.config import FIELD_SECTION, Config
from seqclf.console import (LiteralConsole, PredictionTally, classes_text, engine_text, print_evaluation,
                            print_top_words, threads_text, write_predictions)
from seqclf.errors import SeqclfError, WriteError
from seqclf.reading import ReadProgress, input_from_argument, iter_inputs, read_dataset, read_inputs
from seqclf.phase_watch import watching

DATA_FIELDS = [name for name, section in FIELD_SECTION.items() if section == "data"]
PREDICT_BATCH = 4096  # inputs predicted and written at a time: output appears as the input is read


def _evaluate(args: argparse.Namespace, out: LiteralConsole, err: LiteralConsole) -> None:
    if args.out:  # checked before any work
        from seqclf.runs import check_output_directory

        check_output_directory(args.out)
    model = _load(args, err)
    progress = ReadProgress.of_file(args.data)
    with watching(err, f"reading {args.data}", progress):
        data = read_dataset(args.data, model.fitted.config.updated(flags(args, DATA_FIELDS)).data, progress=progress)
    err.print(f"read {len(data)} examples from {args.data} ({classes_text(data.label_names(), data.task.name)})")
    if data.skipped:  # every one of them: evaluate writes no file to list them in
        err.print(f"skipped {len(data.skipped)} bad rows:")
        for row in data.skipped:
            err.print(f"  {row.message()}")
    with watching(err, f"classifying {len(data):,} texts"):
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
    """One output per input, in order, written batch by batch as the input is read (memory stays flat
    however long the file; an interrupted run leaves whole lines): an input with no text (or, with
    --skip-bad-rows, a malformed row) gets a row of its own with no label and the reason."""
    config = Config().updated({"text_column": args.text_column, **flags(args, INPUT_FIELDS)}, source="command-line flags").data
    inputs = iter(input_from_argument(text, i) for i, text in enumerate(args.texts, start=1))
    progress = None
    if args.input:
        progress = ReadProgress.of_file(args.input)
        inputs = itertools.chain(inputs, iter_inputs(args.input, config, progress=progress))
    first = next(inputs, None)  # the input's first problem is said before the model loads
    if first is None:
        raise SeqclfError("no texts to classify", hint="give texts as arguments, --input FILE, or --input - for stdin")
    model = _load(args, err)
    width = len(model.classes_) if args.top_k is None else min(args.top_k, len(model.classes_))
    tally = PredictionTally()
    with watching(err, f"classifying {args.input or 'the texts'}", progress), _writing_standard_output():
        for batch in _batches(itertools.chain([first], inputs), PREDICT_BATCH):
            results = model.predict_inputs(batch, args.top_k)
            write_predictions(out, args.output_format, batch, results, width)
            tally.add(batch, results)
    err.print(tally.summary())


def _batches(items: Iterator, size: int) -> Iterator[list]:
    """Lists of `size` items in order (the last one shorter): itertools.batched, which Python 3.11 lacks."""
    while batch := list(itertools.islice(items, size)):
        yield batch


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
        config = Config().updated({"text_column": args.text_column, **flags(args, INPUT_FIELDS)},
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
        from seqclf.serving_guards import check_address, is_loopback, read_api_key
    except ImportError as exc:
        raise SeqclfError(f"serving needs FastAPI and uvicorn ({exc.name} is missing)",
                          hint="pip install 'seqclf[serve]'") from None
    access = ServeAccess(read_api_key(args.api_key_file, os.environ), tuple(args.cors_origin))
    check_address(args.host, args.port)  # before the model loads and before "serving ..." is printed
    limits = ServeLimits(args.max_texts, args.max_chars, args.max_body_bytes, header_timeout=args.header_timeout)
    engine = _load(args, err).engine  # a bad model directory is a clear error here; the default graph written once
    backend = _backend(args)
    app = create_app(args.model, limits, backend, access)
    if access.api_key is None and not is_loopback(args.host):
        err.print(f"warning: serving on {args.host} without an API key: anyone who can reach port {args.port} can "
                  "use the model (pass --api-key-file FILE or set SEQCLF_API_KEY)")
    out.print(f"serving {args.model} ({engine.description}) on http://{args.host}:{args.port}/ "
              f"({'API key required on /v1/*; ' if access.api_key else ''}API docs: /docs; Ctrl-C stops)")
    serve(app, args.model, args.host, args.port, args.workers, limits, backend, access, args.shutdown_timeout)


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


def _backend(args: argparse.Namespace) -> BackendConfig:
    return BackendConfig(args.backend, args.quantize, args.onnx, args.threads)


def _load(args: argparse.Namespace, err: LiteralConsole) -> TextClassifier:
    model = TextClassifier.load(args.model, _backend(args))
    engine = model.start_engine(lambda event: err.print(engine_text(event)))
    if not model.backend.is_default:
        err.print(f"backend: {engine.description}")
    if engine.threads.reduced:
        err.print(threads_text(engine.threads))
    reading = flags(args, LONG_TEXT_SETTINGS)
    if reading:  # e.g. --long-text chunk for a model trained with truncation
        model = model.reading_long_texts(reading)
        err.print("long texts: " + ", ".join(f"{name} {value}" for name, value in reading.items())
                  + " (instead of the model's own)")
    return model


def flags(args: argparse.Namespace, names: Sequence[str]) -> dict:
    """The settings among `names` given as flags."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


MODEL_COMMANDS = {"evaluate": _evaluate, "predict": _predict, "trace": _trace, "explain": _explain,
                  "serve": _serve, "export": _export}
