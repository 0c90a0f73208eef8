"""The `seqclf` command: parses arguments, calls the library, prints. Nothing else lives here."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from seqclf import __version__, artifacts
from seqclf.api import TextClassifier
from seqclf.config import FIELD_HELP, FIELD_SECTION, FIELD_TYPES, Config, load_preset, preset_names, read_config_file
from seqclf.data.cache import CorpusCache, default_cache_dir
from seqclf.data.demo import demo_corpus
from seqclf.data.encoded import EncodedData, check_known_labels, encode_data, encode_file, encode_training_file
from seqclf.data.readers import BadRow, Dataset, check_readable, input_from_argument, read_dataset, read_inputs
from seqclf.deploy.backend import BACKENDS, BackendConfig
from seqclf.deploy.onnx_export import INPUTS, OUTPUTS
from seqclf.deploy.quantize import QUANTIZATIONS
from seqclf.errors import SeqclfError, SeqclfWarning
from seqclf.fileio import locked
from seqclf.trace import DataFlow
from seqclf.training.checkpoint import CHECKPOINT, has_checkpoint
from seqclf.training.distributed import Cluster, join_cluster, leave_cluster
from seqclf.training.report import ConsoleReport

DATA_FIELDS = [name for name, section in FIELD_SECTION.items() if section == "data"]
INPUT_FIELDS = ("quoting", "delimiter", "encoding", "skip_bad_rows")  # data settings that apply to predict's input
# Ranges of the numbers that are flags of the command rather than settings (config.py checks those).
NUMBER_RANGES = {"top_k": (1, None), "port": (1, 65535), "workers": (1, None), "max_texts": (1, None),
                 "max_chars": (1, None), "max_body_bytes": (1, None), "nproc": (1, None)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    width = None if sys.stdout.isatty() else 120  # logs and pipes get wide tables, not 80 columns
    out = Console(highlight=False, soft_wrap=True, width=width)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        with _warnings_as_lines(err):
            _check_numbers(args)
            return args.run(args, out, err) or 0
    except SeqclfError as exc:
        err.print(f"error: {exc}", markup=False)
        return 2
    except OSError as exc:  # the disk, not the input: a full disk, an unwritable directory
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"error: {where}{exc.strerror or exc} (nothing was replaced: the previous model directory and the "
                  "last checkpoint are as they were)", markup=False)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `seqclf predict ... | head`
        return 0


# -- sub-commands -----------------------------------------------------------------------------------


def _demo(args: argparse.Namespace, out: Console, err: Console) -> None:
    started = time.perf_counter()
    out_dir = artifacts.check_output(args.out)  # before any work
    with locked(out_dir):
        _run_demo(out_dir, args.out, out, started)


def _run_demo(out_dir: Path, shown: str, out: Console, started: float) -> None:
    texts, labels = demo_corpus()
    words = [len(text.split()) for text in texts]
    out.print(f"[bold]demo corpus[/bold]: {len(texts)} sentences in 3 classes (positive, negative, neutral), "
              f"{min(words)}-{max(words)} words")
    clf = TextClassifier(Config.from_dict(load_preset("classic")), valid_fraction=0.2)
    out.print("[bold]training trace[/bold] (classic setup: max_len 10, embedding 50, LSTM 64)")
    clf.fit(texts, labels, callbacks=[ConsoleReport(out)])
    out.print()
    _print_data_flow(out, clf.data_flow(texts))
    for text in ("I love this movie", "This is bad"):
        out.print()
        out.print(clf.trace(text).render(), markup=False)
    clf.save(out_dir)
    out.print(f"\nmodel saved to {shown}; try: seqclf trace {shown} \"what a wonderful film\", or seqclf serve {shown}",
              markup=False)
    out.print(f"demo finished in {time.perf_counter() - started:.1f} s")


def _train(args: argparse.Namespace, out: Console, err: Console) -> int | None:
    config = _train_config(args)
    if args.nproc is not None:
        return _launch_torchrun(args, err)
    cluster = join_cluster(config.train.device)  # under torchrun: this process's rank; else a cluster of one
    try:
        _train_here(args, config, cluster, out if cluster.is_main else Console(quiet=True), err)
    finally:
        leave_cluster()
    return None


def _train_here(args: argparse.Namespace, config: Config, cluster: Cluster, out: Console, err: Console) -> None:
    """Every input and the output are checked before any work; the output stays locked until the end."""
    for path in (args.data, args.valid, args.test):
        if path is not None:
            check_readable(path, config.data)
    out_dir = artifacts.check_output(args.out)
    if os.path.abspath(args.out) != str(out_dir):
        out.print(f"--out {args.out} is a symbolic link: writing to {out_dir}", markup=False)
    with locked(out_dir) if cluster.is_main else contextlib.nullcontext():  # rank 0 writes the directory
        _train_into(out_dir, args, config, cluster, out, err)


def _train_into(checkpoint_dir: Path, args: argparse.Namespace, config: Config, cluster: Cluster, out: Console,
                err: Console) -> None:
    if has_checkpoint(checkpoint_dir) and not args.resume:
        raise SeqclfError("holds the checkpoint of an unfinished training run", path=checkpoint_dir,
                          hint=f"pass --resume to continue it, or delete {checkpoint_dir / CHECKPOINT} to start afresh")
    test = read_dataset(args.test, config.data) if args.test else None  # a bad test file fails now, not after training
    if cluster.distributed:
        out.print(f"distributed: {cluster.world_size} processes ({cluster.backend} on {cluster.device.type}), "
                  f"batch {config.train.batch_size} shared among them", markup=False)
    cache = CorpusCache(None if args.no_cache else Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    if not cluster.is_main:
        cluster.barrier()  # rank 0 encodes and writes the cache first; the others then memory-map it
    tokenizer, train = encode_training_file(args.data, config, cache)
    valid = encode_file(args.valid, config.data, tokenizer, cache) if args.valid else None
    if cluster.is_main:
        cluster.barrier()
    for data in (train, valid):
        if data is not None:
            _report_data(out, data)
    if test is not None:
        check_known_labels(test.labels, train.label_names, test.source)
    clf = TextClassifier(config)
    out.print("[bold]training trace[/bold]")
    clf.fit_encoded(tokenizer, train, valid, callbacks=[ConsoleReport(out)], checkpoint_dir=checkpoint_dir,
                    resume=args.resume)
    if cluster.distributed:
        fingerprint = artifacts.weights_fingerprint(clf.model)
        err.print(f"rank {cluster.rank} of {cluster.world_size}: weights {fingerprint}", markup=False)
        fingerprints = cluster.gather(fingerprint)
        if len(set(fingerprints)) != 1:
            raise SeqclfError(f"the processes ended with different weights: {fingerprints}",
                              hint="please report this with the command line")
        out.print(f"weights identical on all {cluster.world_size} processes: {fingerprints[0]}", markup=False)
        if not cluster.is_main:
            return  # rank 0 writes the model directory
    if clf.vectors_coverage is not None:
        out.print(f"pretrained vectors ({config.train.vectors}): {clf.vectors_coverage}", markup=False)
    out.print()
    _print_data_flow(out, clf.data_flow_encoded(train.corpus))
    skipped = [*train.skipped, *(valid.skipped if valid else []), *(test.skipped if test else [])]
    clf.save(checkpoint_dir, skipped_rows=skipped)
    out.print(f"model saved to {args.out}", markup=False)
    if skipped:
        out.print(f"skipped {len(skipped)} bad rows in all: each is listed in {Path(args.out) / artifacts.SKIPPED_ROWS}",
                  markup=False)
    if test is not None:
        test = encode_data(test, clf.tokenizer)
        _report_data(out, test)
        report = clf.evaluate_encoded(test)
        out.print(f"test: accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f} "
                  f"on {report['examples']} examples")


def _launch_torchrun(args: argparse.Namespace, err: Console) -> int:
    """`seqclf train --nproc N ...` is `torchrun --standalone --nproc_per_node N -m seqclf train ...`."""
    if "WORLD_SIZE" in os.environ:
        raise SeqclfError("is for launching; this process was already started by torchrun", field="nproc",
                          hint="leave --nproc out under torchrun")
    argv = _without_option(args.argv, "--nproc")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}",
               "-m", "seqclf", *argv]
    err.print(f"launching: torchrun --standalone --nproc_per_node={args.nproc} -m seqclf {' '.join(argv)}",
              markup=False)
    return subprocess.run(command).returncode


def _without_option(argv: list[str], name: str) -> list[str]:
    """argv without `name VALUE` or `name=VALUE`."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            kept.append(arg)
    return kept


def _train_config(args: argparse.Namespace) -> Config:
    config = Config()
    if args.preset:
        config = config.updated(load_preset(args.preset), source=f"preset {args.preset}")
    if args.config:
        config = config.updated(read_config_file(args.config), source=str(args.config))
    flags = {name: getattr(args, name) for name in FIELD_SECTION if getattr(args, name, None) is not None}
    return config.updated(flags, source="command-line flags")


def _evaluate(args: argparse.Namespace, out: Console, err: Console) -> None:
    clf = _load(args, err)
    data = _read(args.data, _data_config(clf.config, args), err)
    report = clf.evaluate(data.texts, data.labels)
    if data.skipped:
        report["skipped_rows"] = [row.to_dict() for row in data.skipped]
    if args.json:
        out.print_json(data=report)
        return
    out.print(f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   "
              f"examples {report['examples']}")
    table = Table("class", "precision", "recall", "F1", "support", title="per class")
    for name, row in report["per_class"].items():
        table.add_row(name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", str(row["support"]))
    out.print(table)
    matrix = Table("true \\ predicted", *clf.classes_, title="confusion matrix")
    for name, row in zip(clf.classes_, report["confusion_matrix"]["rows_true_columns_predicted"]):
        matrix.add_row(name, *map(str, row))
    out.print(matrix)


def _predict(args: argparse.Namespace, out: Console, err: Console) -> None:
    """One output per input, in order: an input with no text (or, with --skip-bad-rows, a malformed row)
    gets a row of its own with no label and the reason."""
    settings = {"format": args.input_format, "text_column": args.text_column,
                **{name: getattr(args, name) for name in INPUT_FIELDS if getattr(args, name) is not None}}
    config = Config().updated(settings, source="command-line flags").data
    inputs = [input_from_argument(text, i) for i, text in enumerate(args.texts, start=1)]
    if args.input:
        inputs += read_inputs(args.input, config)
    if not inputs:
        raise SeqclfError("no texts to classify", hint="give texts as arguments, --input FILE, or --input - for stdin")
    clf = _load(args, err)
    texts = [row for row in inputs if isinstance(row, str)]
    predictions = iter(clf.predict_top(texts, args.top_k) if texts else [])
    results = [next(predictions) if isinstance(row, str) else None for row in inputs]
    width = len(clf.classes_) if args.top_k is None else min(args.top_k, len(clf.classes_))
    _PREDICTION_WRITERS[args.format](inputs, results, width, out)
    unlabeled = [row for row in inputs if isinstance(row, BadRow)]
    note = f"; {len(unlabeled)} without a label (\"label\": null): {unlabeled[0].message()}" + (
        ", …" if len(unlabeled) > 1 else "") if unlabeled else ""
    err.print(f"{len(inputs)} inputs, {len(results)} outputs{note}", markup=False)


def _write_json(inputs: list[str | BadRow], results: list[dict | None], width: int, out: Console) -> None:
    for row, result in zip(inputs, results):
        if result is None:
            line = {"text": row.raw, "label": None, "probabilities": None, "error": row.message()}
        else:
            line = {"text": row, **result}
        print(json.dumps(line, ensure_ascii=False))


def _write_tsv(inputs: list[str | BadRow], results: list[dict | None], width: int, out: Console) -> None:
    """label, class=probability per class, text; tabs, line breaks and backslashes in texts escaped as
    \\t, \\n, \\r and \\\\, so every input is one line of the same number of fields."""
    for row, result in zip(inputs, results):
        if result is None:
            fields = ["", f"error={row.message()}", *[""] * (width - 1), row.raw]
        else:
            fields = [result["label"], *(f"{c}={p:.6f}" for c, p in result["probabilities"].items()), row]
        print("\t".join([*fields[:-1], _escape_tsv(fields[-1])]))


def _write_table(inputs: list[str | BadRow], results: list[dict | None], width: int, out: Console) -> None:
    table = Table("text", "label", "probabilities")
    for row, result in zip(inputs, results):
        if result is None:
            table.add_row(row.raw, "-", row.message())
        else:
            table.add_row(row, result["label"], "  ".join(f"{c} {p:.3f}" for c, p in result["probabilities"].items()))
    out.print(table)


_PREDICTION_WRITERS = {"json": _write_json, "tsv": _write_tsv, "table": _write_table}
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escape_tsv(text: str) -> str:
    return text.translate(_TSV_ESCAPES)


def _serve(args: argparse.Namespace, out: Console, err: Console) -> None:
    try:
        from seqclf.server import ServeLimits, create_app, serve
    except ImportError as exc:
        raise SeqclfError(f"serving needs FastAPI and uvicorn ({exc.name} is missing)",
                          hint="pip install 'seqclf[serve]'") from None
    limits = ServeLimits(args.max_texts, args.max_chars, args.max_body_bytes)
    backend = _backend(args)
    app = create_app(args.model, limits, backend)  # a bad model directory is a clear error here, before serving
    out.print(f"serving {args.model} ({backend.describe()}) on http://{args.host}:{args.port}/ "
              "(API docs: /docs; Ctrl-C stops)")
    serve(app, args.model, args.host, args.port, args.workers, limits, backend)


def _export(args: argparse.Namespace, out: Console, err: Console) -> None:
    model_dir = Path(args.model)
    clf = TextClassifier.load(model_dir)
    path = Path(args.onnx) if args.onnx else model_dir / (artifacts.ONNX_INT8 if args.quantize else artifacts.ONNX)
    report = clf.export_onnx(path, args.quantize)
    out.print(f"wrote {report.path} ({_megabytes(report.bytes)})", markup=False)
    if args.quantize:
        out.print(f"size: float32 graph {_megabytes(report.fp32_bytes)} -> {args.quantize} {_megabytes(report.bytes)} "
                  f"({report.bytes / report.fp32_bytes:.2f}x)")
    out.print(f"checked: onnx.checker passed; ONNX Runtime float32 vs PyTorch max probability difference "
              f"{report.parity_error:.1e}")
    out.print(f"inputs:  {', '.join(f'{name} int64 (batch, sequence)' for name in INPUTS)} "
              f"from {model_dir / artifacts.TOKENIZER} (right-padded to {clf.tokenizer.max_len})", markup=False)
    out.print(f"outputs: {', '.join(f'{name} float32 (batch, {len(clf.classes_)})' for name in OUTPUTS)}; "
              f"classes in order: {', '.join(clf.classes_)}", markup=False)


def _trace(args: argparse.Namespace, out: Console, err: Console) -> None:
    clf = TextClassifier.load(args.model)
    trace = clf.trace(args.text)
    if args.json:
        print(json.dumps(trace.to_dict(), ensure_ascii=False))
    else:
        out.print(trace.render(), markup=False)


# -- helpers ----------------------------------------------------------------------------------------


def _backend(args: argparse.Namespace) -> BackendConfig:
    return BackendConfig(args.backend, args.quantize, args.onnx).validate()


def _load(args: argparse.Namespace, err: Console) -> TextClassifier:
    backend = _backend(args)
    clf = TextClassifier.load(args.model, backend.backend, backend.quantize, backend.onnx_file)
    if backend != BackendConfig():
        err.print(f"backend: {backend.describe()}", markup=False)
    return clf


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def _read(path: str, config: Config, console: Console) -> Dataset:
    data = read_dataset(path, config.data)
    classes = sorted(set(data.labels))
    console.print(f"read {len(data)} examples from {path} ({_classes_text(classes)})", markup=False)
    if data.skipped:  # every one of them: evaluate writes no file to list them in
        console.print(f"skipped {len(data.skipped)} bad rows:", markup=False)
        for row in data.skipped:
            console.print(f"  {row.message()}", markup=False)
    return data


def _report_data(console: Console, data: EncodedData) -> None:
    how = "loaded from the cache" if data.from_cache else "read and encoded"
    console.print(f"{data.source}: {len(data)} examples, {data.tokens:,} tokens, "
                  f"{_classes_text(sorted(data.label_names))}; {how} in {data.seconds:.2f} s "
                  f"({data.tokens / max(data.seconds, 1e-9):,.0f} tokens/s)", markup=False)
    _report_skipped(console, data.skipped)


def _classes_text(classes: list[str]) -> str:
    return f"{len(classes)} classes: {', '.join(classes[:8])}{', …' if len(classes) > 8 else ''}"


def _report_skipped(console: Console, skipped: list[BadRow]) -> None:
    if skipped:
        console.print(f"skipped {len(skipped)} bad rows, e.g. " + "; ".join(row.describe() for row in skipped[:3]),
                      markup=False)


def _check_numbers(args: argparse.Namespace) -> None:
    for name, (low, high) in NUMBER_RANGES.items():
        value = getattr(args, name, None)
        if value is not None and not (low <= value and (high is None or value <= high)):
            allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise SeqclfError(f"must be {allowed}, got {value}", field=name.replace("_", "-"))


@contextlib.contextmanager
def _warnings_as_lines(err: Console):
    """seqclf's own warnings (a damaged cache entry rebuilt, a cache that cannot be written) as one line each."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SeqclfWarning):
            err.print(f"warning: {message}", markup=False)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown


def _data_config(config: Config, args: argparse.Namespace) -> Config:
    flags = {name: getattr(args, name) for name in DATA_FIELDS if getattr(args, name, None) is not None}
    return config.updated(flags, source="command-line flags")


def _print_data_flow(out: Console, flow: DataFlow) -> None:
    table = Table("stage", "operation", "shape", "example", title="data flow")
    for row in flow.rows:
        table.add_row(row.stage, row.operation, row.shape_text, row.example)
    out.print(table)
    out.print(flow.summary())


def _add_config_flags(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    defaults = {name: value for section in Config().to_dict().values() for name, value in section.items()}
    for name in names:
        flag = "--" + name.replace("_", "-")
        text = f"{FIELD_HELP[name]} (default: {'none' if defaults[name] is None else defaults[name]})"
        if FIELD_TYPES[name] is bool:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            parser.add_argument(flag, dest=name, default=None, metavar=name.upper(), help=text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqclf", description="Sequence classification whose pipeline you can see.")
    parser.add_argument("--version", action="version", version=f"seqclf {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="the classic pipeline on built-in data, end to end")
    demo.add_argument("--out", default="runs/demo", help="where to save the demo model (default: runs/demo)")
    demo.set_defaults(run=_demo)

    train = commands.add_parser("train", help="train a model on a data file")
    train.add_argument("data", help="training data (.csv, .tsv, .jsonl, or fastText .txt)")
    train.add_argument("--out", required=True, help="model directory to write")
    train.add_argument("--valid", help="validation data; default: hold out --valid-fraction of the training data")
    train.add_argument("--test", help="test data to evaluate the saved model on")
    train.add_argument("--config", help="YAML or JSON file of settings (flags win over it)")
    train.add_argument("--preset", choices=preset_names(), help="named settings to start from")
    train.add_argument("--cache-dir", help="where encoded data files are cached "
                                           "(default: $SEQCLF_CACHE_DIR or ~/.cache/seqclf)")
    train.add_argument("--no-cache", action="store_true", help="neither read nor write the encoded-data cache")
    train.add_argument("--resume", action="store_true",
                       help="continue the interrupted run whose checkpoint is in --out, where it stopped")
    train.add_argument("--nproc", type=int, metavar="N",
                       help="train with N processes on this machine (launches torchrun; see docs/distributed.md)")
    _add_config_flags(train, list(FIELD_SECTION))
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="accuracy, F1 and confusion matrix on labeled data")
    evaluate.add_argument("model", help="model directory")
    evaluate.add_argument("data", help="labeled data file")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_config_flags(evaluate, DATA_FIELDS)
    _add_backend_flags(evaluate)
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser("predict", help="label texts")
    predict.add_argument("model", help="model directory")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--input", help="file of texts (.txt: one per line; .csv/.tsv/.jsonl: the text column), "
                                         "or - for standard input")
    predict.add_argument("--input-format", choices=["csv", "tsv", "jsonl", "fasttext"],
                         help="format of --input when its extension does not tell")
    predict.add_argument("--text-column", default="text", help="column or key of the text in --input")
    predict.add_argument("--top-k", type=int, help="show the K most probable classes (default: all)")
    predict.add_argument("--format", choices=list(_PREDICTION_WRITERS), default="json",
                         help="json: one object per line (default); tsv: one line per input, tabs and line breaks "
                              "in texts escaped; table")
    _add_config_flags(predict, INPUT_FIELDS)
    _add_backend_flags(predict)
    predict.set_defaults(run=_predict)

    trace = commands.add_parser("trace", help="one text through every stage, with real values")
    trace.add_argument("model", help="model directory")
    trace.add_argument("text", help="the text to trace")
    trace.add_argument("--json", action="store_true", help="print the trace as JSON")
    trace.set_defaults(run=_trace)

    serve = commands.add_parser("serve", help="HTTP API and web page for a saved model (needs seqclf[serve])")
    serve.add_argument("model", help="model directory")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes, each with its own model copy")
    serve.add_argument("--max-texts", type=int, default=256, help="most texts in one /v1/predict request")
    serve.add_argument("--max-chars", type=int, default=10_000, help="most characters in one text")
    serve.add_argument("--max-body-bytes", type=int, default=4_000_000, help="largest request body")
    _add_backend_flags(serve)
    serve.set_defaults(run=_serve)

    export = commands.add_parser("export", help="write the model as an ONNX graph (needs seqclf[onnx])")
    export.add_argument("model", help="model directory")
    export.add_argument("--onnx", metavar="FILE", help="where to write the graph (default: model.onnx in the model "
                                                        "directory, model.int8.onnx with --quantize int8)")
    export.add_argument("--quantize", choices=QUANTIZATIONS, help="int8: dynamic int8 quantization (linear, recurrent, embedding weights)")
    export.set_defaults(run=_export)
    return parser


def _add_backend_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="what runs the model: torch (default) or onnx (ONNX Runtime, needs seqclf[onnx] and "
                             "a graph from `seqclf export`)")
    parser.add_argument("--quantize", choices=QUANTIZATIONS,
                        help="int8: torch quantizes dynamically on load; onnx reads model.int8.onnx")
    parser.add_argument("--onnx", metavar="FILE", help="the ONNX graph to run with --backend onnx "
                                                       "(default: model.onnx or model.int8.onnx in the model directory)")
