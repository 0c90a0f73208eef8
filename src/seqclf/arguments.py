"""The `seqclf` command's arguments: every sub-command (those that train in `seqclf.train_arguments`,
those that read a model in `seqclf.model_arguments`), and the ranges of the command's own numbers."""
from __future__ import annotations

import argparse

from seqclf.errors import SeqclfError
from seqclf.flag_builders import Parser
from seqclf.model_arguments import (evaluate_command, explain_command, export_command, predict_command, serve_command,
                                    trace_command)
from seqclf.train_arguments import audit_command, demo_command, distill_command, train_command, tune_command
from seqclf.version import __version__

# Ranges of the numbers that are flags of the command rather than settings (the config checks those).
NUMBER_RANGES = {"final_ensemble": (1, None), "top_k": (1, None), "port": (1, 65535), "workers": (1, None), "max_texts": (1, None),
                 "max_chars": (1, None), "max_body_bytes": (1, None), "nproc": (1, None), "errors": (1, None), "steps": (1, None),
                 "top_words": (1, None), "min_count": (1, None), "folds": (2, None), "show": (0, None),
                 "copies": (0, None), "drop": (0, 1), "shuffle": (0, None), "shutdown_timeout": (0, 86_400), "header_timeout": (0.1, 3600), "trials": (1, None)}


def parser() -> argparse.ArgumentParser:
    """Every sub-command with its flags, in the order a user meets them; `command` names the one chosen."""
    parser = Parser(prog="seqclf", description="Sequence classification whose pipeline you can see.")
    parser.add_argument("--version", action="version", version=f"seqclf {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in (demo_command, train_command, evaluate_command, predict_command, trace_command,
                        explain_command, serve_command, tune_command, audit_command, distill_command, export_command):
        add_command(commands)
    return parser


def check_numbers(args: argparse.Namespace) -> None:
    for name, (low, high) in NUMBER_RANGES.items():
        value = getattr(args, name, None)
        if value is not None and not (low <= value and (high is None or value <= high)):
            allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise SeqclfError(f"must be {allowed}, got {value}", field=name.replace("_", "-"))
