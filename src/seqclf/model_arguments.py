"""The arguments of the sub-commands that read a saved model: evaluate, predict, trace, explain, serve and
export. Each `--help` lists its flags by what they are about: the input, long texts (stage 2), the
output, the engine."""
from __future__ import annotations

import argparse

from seqclf.api import EXPLAIN_STEPS, LONG_TEXT_SETTINGS, MIN_COUNT, QUANTIZATIONS, TOP_WORDS
from seqclf.config import FIELD_SECTION
from seqclf.console import PREDICTION_WRITERS
from seqclf.flag_builders import add_config_flags, add_engine_flags, add_old_spelling, number

INPUT_FIELDS = ("format", "quoting", "delimiter", "encoding", "skip_bad_rows")  # data settings of predict's input
LONG_TEXTS = "stage 2, long texts (default: as the model was trained)"


def evaluate_command(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("evaluate", help="accuracy, F1 and confusion matrix on labeled data",
                                   usage="%(prog)s MODEL DATA [--errors N] [--json] [flags]")
    evaluate.add_argument("model", metavar="MODEL", help="model directory")
    evaluate.add_argument("data", metavar="DATA", help="labeled data file")
    output = evaluate.add_argument_group("the report")
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--out", metavar="DIR", help="also write the report (report.json), the confusion matrix "
                        "and the reliability diagram (PNG) into DIR")
    output.add_argument("--errors", type=int, metavar="N",
                        help="also list the N most confident mistakes (text, gold label, predicted label, probability)")
    reading = evaluate.add_argument_group("stage 1, raw text: reading DATA")
    add_config_flags(reading, [name for name, section in FIELD_SECTION.items() if section == "data"])
    add_config_flags(evaluate.add_argument_group(LONG_TEXTS), LONG_TEXT_SETTINGS, "the model's")
    add_engine_flags(evaluate)


def predict_command(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser("predict", help="label texts",
                                  usage="%(prog)s MODEL [TEXT ...] [--input FILE|-] [--output-format FORMAT] [flags]")
    _add_model_and_texts(predict, "texts to classify")
    reading = predict.add_argument_group("stage 1, raw text: the input")
    reading.add_argument("--input", metavar="FILE", help="file of texts (.txt: one per line; .csv/.tsv/.jsonl: the "
                                                         "text column), or - for standard input")
    reading.add_argument("--text-column", default="text", metavar="NAME",
                         help="column or key of the text in --input (default: text)")
    add_config_flags(reading, INPUT_FIELDS, old_spellings=False)
    add_config_flags(predict.add_argument_group(LONG_TEXTS), LONG_TEXT_SETTINGS, "the model's")
    output = predict.add_argument_group("the output")
    output.add_argument("--top-k", type=int, metavar="K", help="show the K most probable classes (default: all)")
    output.add_argument("--output-format", choices=list(PREDICTION_WRITERS), default="json",
                        help="json: one object per line (default); tsv: one line per input, tabs, line breaks "
                             "and other control characters escaped in every field; table")
    add_old_spelling(output, "--format", "--output-format", "output_format", choices=list(PREDICTION_WRITERS))
    add_engine_flags(predict)


def _add_model_and_texts(parser: argparse.ArgumentParser, texts: str) -> None:
    """MODEL, then any number of TEXT arguments (none: the texts come from a file)."""
    parser.add_argument("model", metavar="MODEL", help="model directory")
    parser.add_argument("texts", nargs="*", default=[], metavar="TEXT", help=texts)


def trace_command(commands: argparse._SubParsersAction) -> None:
    trace = commands.add_parser("trace", help="one text through every stage, with real values",
                                usage="%(prog)s MODEL TEXT [--json]")
    trace.add_argument("model", metavar="MODEL", help="model directory")
    trace.add_argument("text", metavar="TEXT", help="the text to trace")
    trace.add_argument("--json", action="store_true", help="print the trace as JSON")


def explain_command(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser("explain", help="which tokens drove a label: Integrated Gradients on the embeddings "
                                                  "(needs seqclf[explain])",
                                  usage="%(prog)s MODEL [TEXT ...] [--data FILE] [--label CLASS] [flags]")
    _add_model_and_texts(explain, "texts to explain")
    what = explain.add_argument_group("the explanation")
    what.add_argument("--label", metavar="CLASS", help="the class whose score (the number softmax reads for it) is "
                                                       "explained (default: each text's predicted class)")
    what.add_argument("--steps", type=int, default=EXPLAIN_STEPS, metavar="N",
                      help=f"points of the path integral; more: a smaller convergence delta (default: {EXPLAIN_STEPS})")
    what.add_argument("--json", action="store_true", help="print one JSON object per text (or the top words as JSON)")
    reading = explain.add_argument_group("a file of texts: the words that drive each class")
    reading.add_argument("--data", metavar="FILE", help="explain every text of FILE for every class and list, per "
                                                        "class, the words with the largest mean attribution")
    reading.add_argument("--top-words", type=int, default=TOP_WORDS, metavar="N",
                         help=f"with --data: words listed per class (default: {TOP_WORDS})")
    reading.add_argument("--min-count", type=int, default=MIN_COUNT, metavar="N",
                         help=f"with --data: occurrences a word needs to be listed (default: {MIN_COUNT})")
    reading.add_argument("--text-column", default="text", metavar="NAME",
                         help="column or key of the text in --data (default: text)")
    add_config_flags(reading, INPUT_FIELDS, old_spellings=False)
    add_engine_flags(explain)


def serve_command(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="HTTP API and web page for a saved model (needs seqclf[serve])",
                                usage="%(prog)s MODEL [--host HOST] [--port PORT] [--workers N] [flags]")
    serve.add_argument("model", metavar="MODEL", help="model directory")
    server = serve.add_argument_group("the server")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this "
                                                            "machine only; 0.0.0.0: every interface)")
    server.add_argument("--port", type=int, default=8000, help="TCP port to listen on (default: 8000)")
    server.add_argument("--workers", type=int, default=1, metavar="N",
                        help="server processes, each with its own model copy (default: 1)")
    server.add_argument("--shutdown-timeout", type=number, default=30.0, metavar="SECONDS",
                        help="on SIGTERM or Ctrl-C, wait at most this long for requests in flight (default: 30)")
    server.add_argument("--header-timeout", type=number, default=10.0, metavar="SECONDS",
                        help="close a connection that has not sent a complete request head (request line and "
                             "headers) this long after opening or after its last answer (default: 10)")
    limits = serve.add_argument_group("requests: limits and access")
    limits.add_argument("--max-texts", type=int, default=256, metavar="N",
                        help="most texts in one /v1/predict request (default: 256)")
    limits.add_argument("--max-chars", type=int, default=10_000, metavar="N",
                        help="most characters in one text (default: 10000)")
    limits.add_argument("--max-body-bytes", type=int, default=4_000_000, metavar="N",
                        help="largest request body, in bytes (default: 4000000)")
    limits.add_argument("--api-key-file", metavar="FILE", help="require 'Authorization: Bearer KEY' on /v1/*, KEY "
                        "being this file's content (or set SEQCLF_API_KEY); /health and the page stay open")
    limits.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="let web pages of ORIGIN (e.g. https://app.example.com) call the API; repeatable "
                             "(default: no other origin)")
    add_engine_flags(serve)


def export_command(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="write the model as an ONNX graph (needs seqclf[onnx])",
                                 usage="%(prog)s MODEL [--onnx FILE] [--quantize int8]")
    export.add_argument("model", metavar="MODEL", help="model directory")
    export.add_argument("--onnx", metavar="FILE", help="where to write the graph (default: model.onnx in the model "
                                                       "directory, model.int8.onnx with --quantize int8)")
    export.add_argument("--quantize", choices=QUANTIZATIONS,
                        help="int8: dynamic int8 quantization (linear, recurrent, embedding weights)")
