"""The `seqclf` command's arguments: every sub-command, its flags and their help. Flags of settings are
made from the config fields (`seqclf.config`), so they cannot drift from what the settings are."""
from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from seqclf.config import FIELD_HELP, FIELD_SECTION, FIELD_TYPES, SECTIONS, Config, preset_names
from seqclf.console import PREDICTION_WRITERS
from seqclf.errors import SeqclfError
from seqclf.api import BACKENDS, EXPLAIN_STEPS, LONG_TEXT_SETTINGS, MIN_COUNT, QUANTIZATIONS, TOP_WORDS
from seqclf.version import __version__

# `--help`'s group of each settings section (`seqclf.config.SECTIONS`, in the pipeline's order).
SECTION_TITLES = {"data": "stage 1, raw text: reading the data files",
                  "tokenizer": "stage 2, token ids: tokenization, padding and truncation, long texts",
                  "model": "stages 3-5, the model: embedding, sequence encoder, fully connected layer and softmax",
                  "train": "training"}
INPUT_FIELDS = ("quoting", "delimiter", "encoding", "skip_bad_rows")  # data settings that apply to predict's input
# Ranges of the numbers that are flags of the command rather than settings (the config checks those).
NUMBER_RANGES = {"final_ensemble": (1, None), "top_k": (1, None), "port": (1, 65535), "workers": (1, None), "max_texts": (1, None),
                 "max_chars": (1, None), "max_body_bytes": (1, None), "nproc": (1, None), "errors": (1, None), "steps": (1, None),
                 "top_words": (1, None), "min_count": (1, None), "folds": (2, None), "show": (0, None),
                 "shutdown_timeout": (0, 86_400), "header_timeout": (0.1, 3600), "trials": (1, None)}


def _add_setting_groups(parser: argparse.ArgumentParser, sections: Sequence[str]) -> None:
    """The flags of every setting of `sections`, a group each, in the pipeline's order."""
    for section in sections:
        group = parser.add_argument_group(SECTION_TITLES[section])
        _add_config_flags(group, [name for name, where in FIELD_SECTION.items() if where == section])


def _add_config_flags(parser: argparse._ActionsContainer, names: Sequence[str], default: str | None = None) -> None:
    """A flag per setting; `default` names where an unset flag's value comes from (else the config default)."""
    defaults = {name: value for section in Config().to_dict().values() for name, value in section.items()}
    for name in names:
        flag = "--" + name.replace("_", "-")
        shown = default or ("none" if defaults[name] is None else defaults[name])
        text = f"{FIELD_HELP[name]} (default: {shown})"
        if FIELD_TYPES[name] is bool:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            parser.add_argument(flag, dest=name, default=None, metavar=name.upper(), help=text)


def parser() -> argparse.ArgumentParser:
    """Every sub-command with its flags; `command` names the one chosen."""
    parser = argparse.ArgumentParser(prog="seqclf", description="Sequence classification whose pipeline you can see.")
    parser.add_argument("--version", action="version", version=f"seqclf {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in (_demo_command, _train_command, _evaluate_command, _predict_command, _trace_command,
                        _explain_command, _serve_command, _tune_command, _audit_command, _export_command):
        add_command(commands)
    return parser


def _demo_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="the classic pipeline on built-in data, end to end")
    demo.add_argument("--out", default="runs/demo", help="where to save the demo model (default: runs/demo)")
    demo.set_defaults(command="demo")


def _train_command(commands: argparse._SubParsersAction) -> None:
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
    _add_setting_groups(train, SECTIONS)
    train.set_defaults(command="train")


def _evaluate_command(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("evaluate", help="accuracy, F1 and confusion matrix on labeled data")
    evaluate.add_argument("model", help="model directory")
    evaluate.add_argument("data", help="labeled data file")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--out", metavar="DIR", help="also write the report (report.json), the confusion matrix "
                          "and the reliability diagram (PNG) into DIR")
    evaluate.add_argument("--errors", type=int, metavar="N",
                          help="also list the N most confident mistakes (text, gold label, predicted label, probability)")
    _add_config_flags(evaluate, [name for name, section in FIELD_SECTION.items() if section == "data"])
    _add_config_flags(evaluate, LONG_TEXT_SETTINGS, "the model's")
    _add_backend_flags(evaluate)
    evaluate.set_defaults(command="evaluate")


def _predict_command(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser("predict", help="label texts")
    predict.add_argument("model", help="model directory")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--input", help="file of texts (.txt: one per line; .csv/.tsv/.jsonl: the text column), "
                                         "or - for standard input")
    predict.add_argument("--input-format", choices=["csv", "tsv", "jsonl", "fasttext"],
                         help="format of --input when its extension does not tell")
    predict.add_argument("--text-column", default="text", help="column or key of the text in --input")
    predict.add_argument("--top-k", type=int, help="show the K most probable classes (default: all)")
    predict.add_argument("--format", choices=list(PREDICTION_WRITERS), default="json",
                         help="json: one object per line (default); tsv: one line per input, tabs, line breaks "
                              "and other control characters escaped in every field; table")
    _add_config_flags(predict, INPUT_FIELDS)
    _add_config_flags(predict, LONG_TEXT_SETTINGS, "the model's")
    _add_backend_flags(predict)
    predict.set_defaults(command="predict")


def _trace_command(commands: argparse._SubParsersAction) -> None:
    trace = commands.add_parser("trace", help="one text through every stage, with real values")
    trace.add_argument("model", help="model directory")
    trace.add_argument("text", help="the text to trace")
    trace.add_argument("--json", action="store_true", help="print the trace as JSON")
    trace.set_defaults(command="trace")


def _explain_command(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser("explain", help="which tokens drove a label: Integrated Gradients on the embeddings "
                                                  "(needs seqclf[explain])")
    explain.add_argument("model", help="model directory")
    explain.add_argument("texts", nargs="*", help="texts to explain")
    explain.add_argument("--label", help="the class whose logit is explained (default: each text's predicted class)")
    explain.add_argument("--steps", type=int, default=EXPLAIN_STEPS,
                         help=f"points of the path integral; more: a smaller convergence delta (default: {EXPLAIN_STEPS})")
    explain.add_argument("--json", action="store_true", help="print one JSON object per text (or the top words as JSON)")
    explain.add_argument("--data", metavar="FILE", help="explain every text of FILE for every class and list, per class, "
                                                       "the words with the largest mean attribution")
    explain.add_argument("--top-words", type=int, default=TOP_WORDS, metavar="N",
                         help=f"with --data: words listed per class (default: {TOP_WORDS})")
    explain.add_argument("--min-count", type=int, default=MIN_COUNT, metavar="N",
                         help=f"with --data: occurrences a word needs to be listed (default: {MIN_COUNT})")
    explain.add_argument("--text-column", default="text", help="column or key of the text in --data")
    _add_config_flags(explain, INPUT_FIELDS)
    _add_backend_flags(explain)
    explain.set_defaults(command="explain")


def _serve_command(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="HTTP API and web page for a saved model (needs seqclf[serve])")
    serve.add_argument("model", help="model directory")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes, each with its own model copy")
    serve.add_argument("--max-texts", type=int, default=256, help="most texts in one /v1/predict request")
    serve.add_argument("--max-chars", type=int, default=10_000, help="most characters in one text")
    serve.add_argument("--max-body-bytes", type=int, default=4_000_000, help="largest request body")
    serve.add_argument("--api-key-file", metavar="FILE", help="require 'Authorization: Bearer KEY' on /v1/*, KEY "
                       "being this file's content (or set SEQCLF_API_KEY); /health and the page stay open")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                       help="let web pages of ORIGIN (e.g. https://app.example.com) call the API; repeatable "
                            "(default: no other origin)")
    serve.add_argument("--shutdown-timeout", type=number, default=30.0, metavar="SECONDS",
                       help="on SIGTERM or Ctrl-C, wait at most this long for requests in flight (default: 30)")
    serve.add_argument("--header-timeout", type=number, default=10.0, metavar="SECONDS",
                       help="close a connection that has not sent a complete request head (request line and "
                            "headers) this long after opening or after its last answer (default: 10)")
    _add_backend_flags(serve)
    serve.set_defaults(command="serve")


def _tune_command(commands: argparse._SubParsersAction) -> None:
    tune = commands.add_parser("tune", help="search the settings on validation data (Optuna), then train the "
                                            "final model (needs seqclf[tune])")
    tune.add_argument("data", help="training data")
    tune.add_argument("--valid", required=True, help="validation data: every choice is made on it")
    tune.add_argument("--out", required=True, help="directory for the study (study.db), best.yaml and the model")
    tune.add_argument("--budget", type=duration, help="time limit of this run's search, e.g. 600, 600s, 10m, 1h "
                      "(default: 10m, or no time limit with --trials); the final training follows")
    tune.add_argument("--trials", type=int, metavar="N", help="search until the study holds N finished trials "
                      "(complete or pruned), those of earlier runs included: run again, it goes on up to N; with "
                      "--budget, whichever comes first (default: no limit)")
    tune.add_argument("--metric", choices=["accuracy", "loss"], default="accuracy",
                      help="validation figure to optimize (default: accuracy)")
    tune.add_argument("--seed", dest="search_seed", type=int, default=0, help="seed of the search (default: 0)")
    tune.add_argument("--ensemble", dest="final_ensemble", type=int, default=3,
                      help="sequence models in the final model, with the best settings (default: 3)")
    tune.add_argument("--cache-dir", help="where encoded data files are cached")
    tune.add_argument("--no-cache", action="store_true", help="neither read nor write the encoded-data cache")
    _add_setting_groups(tune, ("data", "tokenizer"))
    tune.set_defaults(command="tune")


def _audit_command(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="rank training examples by how likely their label is wrong, from "
                                              "k-fold out-of-fold probabilities (needs seqclf[audit])")
    audit.add_argument("data", help="labeled data file")
    audit.add_argument("--out", required=True, metavar="DIR", help="directory for label_issues.csv, "
                                                                   "label_issues.jsonl and audit.json")
    audit.add_argument("--folds", type=int, default=5, help="k: models trained, each without one fold (default: 5)")
    audit.add_argument("--config", help="YAML or JSON file of settings (flags win over it)")
    audit.add_argument("--preset", choices=[*preset_names(), "none"], default="fast",
                       help="named settings to start from (default: fast, the quickest and here the better ranking "
                            "than the default settings; none: train's defaults)")
    audit.add_argument("--show", type=int, default=10, metavar="N", help="examples shown here (default: 10)")
    _add_setting_groups(audit, SECTIONS)
    audit.set_defaults(command="audit")


def _export_command(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="write the model as an ONNX graph (needs seqclf[onnx])")
    export.add_argument("model", help="model directory")
    export.add_argument("--onnx", metavar="FILE", help="where to write the graph (default: model.onnx in the model "
                                                        "directory, model.int8.onnx with --quantize int8)")
    export.add_argument("--quantize", choices=QUANTIZATIONS, help="int8: dynamic int8 quantization (linear, recurrent, embedding weights)")
    export.set_defaults(command="export")


def _add_backend_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="what runs the model: auto (default: ONNX Runtime when seqclf[onnx] is installed, "
                             "from the model directory's graph, written there the first time; else PyTorch), "
                             "onnx (ONNX Runtime only) or torch (PyTorch only)")
    parser.add_argument("--quantize", choices=QUANTIZATIONS,
                        help="int8: ONNX Runtime reads model.int8.onnx (written the first time); torch quantizes "
                             "dynamically on load")
    parser.add_argument("--onnx", metavar="FILE", help="the ONNX graph to run with --backend onnx "
                                                       "(default: model.onnx or model.int8.onnx in the model directory)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads to compute with (default: the cores this process can get now, less those "
                             "other processes keep busy)")


def number(text: str) -> float:
    """A finite number: NaN and infinities (`nan`, `inf`, `1e999`) are refused, as a deadline or a timeout
    compared with them never comes."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def duration(text: str) -> float:
    """Seconds from '600', '600s', '10m' or '1h'."""
    units = {"s": 1, "m": 60, "h": 3600}
    amount, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(amount) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration like 600, 10m or 1h, got {text!r}") from None
    if not 0 < seconds < math.inf:  # NaN too
        raise argparse.ArgumentTypeError(f"must be a positive, finite duration, got {text!r}")
    return seconds


def check_numbers(args: argparse.Namespace) -> None:
    for name, (low, high) in NUMBER_RANGES.items():
        value = getattr(args, name, None)
        if value is not None and not (low <= value and (high is None or value <= high)):
            allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise SeqclfError(f"must be {allowed}, got {value}", field=name.replace("_", "-"))
