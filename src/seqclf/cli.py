"""The `seqclf` command: parses arguments, calls the library, prints. Nothing else lives here."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from seqclf import __version__, artifacts
from seqclf.api import TextClassifier
from seqclf.config import FIELD_HELP, FIELD_SECTION, FIELD_TYPES, Config, load_preset, preset_names, read_config_file
from seqclf.data.cache import CorpusCache, default_cache_dir
from seqclf.data.demo import demo_corpus
from seqclf.data.encoded import EncodedData, encode_file, encode_training_file
from seqclf.data.readers import Dataset, read_dataset, read_lines
from seqclf.deploy.backend import BACKENDS, BackendConfig
from seqclf.deploy.onnx_export import INPUTS, OUTPUTS
from seqclf.deploy.quantize import QUANTIZATIONS
from seqclf.errors import SeqclfError
from seqclf.trace import DataFlow
from seqclf.training.checkpoint import CHECKPOINT, has_checkpoint
from seqclf.training.distributed import Cluster, join_cluster, leave_cluster
from seqclf.training.report import ConsoleReport

DATA_FIELDS = [name for name, section in FIELD_SECTION.items() if section == "data"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    width = None if sys.stdout.isatty() else 120  # logs and pipes get wide tables, not 80 columns
    out = Console(highlight=False, soft_wrap=True, width=width)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
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
    saved = clf.save(args.out)
    out.print(f"\nmodel saved to {saved}; try: seqclf trace {saved} \"what a wonderful film\", or seqclf serve {saved}")
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
    checkpoint_dir = Path(args.out)
    if has_checkpoint(checkpoint_dir) and not args.resume:
        raise SeqclfError("holds the checkpoint of an unfinished training run", path=checkpoint_dir,
                          hint=f"pass --resume to continue it, or delete {checkpoint_dir / CHECKPOINT} to start afresh")
    artifacts.check_replaceable(checkpoint_dir)
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
    saved = clf.save(args.out)
    out.print(f"model saved to {saved}")
    if args.test:
        test = encode_file(args.test, config.data, clf.tokenizer, cache)
        _report_data(out, test)
        report = clf.evaluate_encoded(test)
        out.print(f"test: accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f} "
                  f"on {report['examples']} examples")


def _launch_torchrun(args: argparse.Namespace, err: Console) -> int:
    """`seqclf train --nproc N ...` is `torchrun --standalone --nproc_per_node N -m seqclf train ...`."""
    if args.nproc < 1:
        raise SeqclfError(f"must be at least 1, got {args.nproc}", field="nproc")
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
    texts = list(args.texts)
    if args.input == "-":
        texts += [line for line in sys.stdin.read().splitlines() if line.strip()]
    elif args.input:
        texts += _input_texts(Path(args.input), args)
    if not texts:
        raise SeqclfError("no texts to classify", hint="give texts as arguments, --input FILE, or --input - for stdin")
    clf = _load(args, err)
    results = [(text, r["label"], r["probabilities"]) for text, r in zip(texts, clf.predict_top(texts, args.top_k))]
    if args.format == "json":
        for text, label, probs in results:
            print(json.dumps({"text": text, "label": label, "probabilities": probs}, ensure_ascii=False))
    elif args.format == "tsv":
        for text, label, probs in results:
            print("\t".join([label, *(f"{c}={p:.6f}" for c, p in probs.items()), text.replace("\t", " ")]))
    else:
        table = Table("text", "label", "probabilities")
        for text, label, probs in results:
            table.add_row(text, label, "  ".join(f"{c} {p:.3f}" for c, p in probs.items()))
        out.print(table)


def _input_texts(path: Path, args: argparse.Namespace) -> list[str]:
    if path.suffix.lower() in (".csv", ".tsv", ".tab", ".jsonl", ".ndjson") or args.input_format:
        fields = {"format": args.input_format, "text_column": args.text_column}
        return read_dataset(path, Config().updated(fields).data, require_labels=False).texts
    return read_lines(path)


def _serve(args: argparse.Namespace, out: Console, err: Console) -> None:
    try:
        from seqclf.server import ServeLimits, create_app, serve
    except ImportError as exc:
        raise SeqclfError(f"serving needs FastAPI and uvicorn ({exc.name} is missing)",
                          hint="pip install 'seqclf[serve]'") from None
    for name in ("port", "workers", "max_texts", "max_chars", "max_body_bytes"):
        if getattr(args, name) < (0 if name == "port" else 1):
            raise SeqclfError(f"must be positive, got {getattr(args, name)}", field=name.replace("_", "-"))
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
    _report_skipped(console, data.skipped, data.skipped_examples)
    return data


def _report_data(console: Console, data: EncodedData) -> None:
    how = "loaded from the cache" if data.from_cache else "read and encoded"
    console.print(f"{data.source}: {len(data)} examples, {data.tokens:,} tokens, "
                  f"{_classes_text(sorted(data.label_names))}; {how} in {data.seconds:.2f} s "
                  f"({data.tokens / max(data.seconds, 1e-9):,.0f} tokens/s)", markup=False)
    _report_skipped(console, data.skipped, data.skipped_examples)


def _classes_text(classes: list[str]) -> str:
    return f"{len(classes)} classes: {', '.join(classes[:8])}{', …' if len(classes) > 8 else ''}"


def _report_skipped(console: Console, skipped: int, examples: list[str]) -> None:
    if skipped:
        console.print(f"skipped {skipped} bad rows, e.g. " + "; ".join(examples[:3]), markup=False)


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
    predict.add_argument("--format", choices=["json", "tsv", "table"], default="json",
                         help="json: one object per line (default); tsv; table")
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
