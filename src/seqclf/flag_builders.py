"""What the `seqclf` command's flags are made of: the parser every sub-command uses, the flags of settings
(made from the config fields, so they cannot drift from what the settings are), the engine's flags, the
old spellings of renamed flags, and the types of the command's own numbers."""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from seqclf.api import BACKENDS, QUANTIZATIONS
from seqclf.config import FIELD_HELP, FIELD_SECTION, FIELD_TYPES, Config

# `--help`'s group of each settings section (`seqclf.config.SECTIONS`, in the pipeline's order).
SECTION_TITLES = {"data": "stage 1, raw text: reading the data files",
                  "tokenizer": "stage 2, token ids: tokenization, padding and truncation, long texts",
                  "model": "stages 3-5, the model: embedding, sequence encoder, fully connected layer and softmax",
                  "train": "training"}
# Settings whose flag is not their name: `format` is the input's, as `--output-format` is predict's output.
FLAG_NAMES = {"format": "--input-format"}


class Parser(argparse.ArgumentParser):
    """A usage error is three lines: the short usage, what is wrong, and where the flags are listed."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.format_usage()}{self.prog}: error: {message}\nevery flag: {self.prog} --help\n")


def add_setting_groups(parser: argparse.ArgumentParser, sections: Sequence[str]) -> dict[str, argparse._ArgumentGroup]:
    """The flags of every setting of `sections`, a group each, in the pipeline's order; the groups, by section,
    for the command's own flags of that stage."""
    groups = {}
    for section in sections:
        groups[section] = parser.add_argument_group(SECTION_TITLES[section])
        add_config_flags(groups[section], [name for name, where in FIELD_SECTION.items() if where == section])
    return groups


def add_config_flags(parser: argparse._ActionsContainer, names: Sequence[str], default: str | None = None,
                     old_spellings: bool = True) -> None:
    """A flag per setting; `default` names where an unset flag's value comes from (else the config default);
    `old_spellings`: `--format` too, hidden (predict's old `--format` is its output's)."""
    defaults = {name: value for section in Config().to_dict().values() for name, value in section.items()}
    for name in names:
        flag = FLAG_NAMES.get(name, "--" + name.replace("_", "-"))
        shown = default or ("none" if defaults[name] is None else defaults[name])
        text = f"{FIELD_HELP[name]} (default: {shown})"
        if FIELD_TYPES[name] is bool:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            parser.add_argument(flag, dest=name, default=None, metavar=name.upper(), help=text)
        if name == "format" and old_spellings:
            add_old_spelling(parser, "--format", flag, name)


class OldSpelling(argparse.Action):
    """A renamed flag's old spelling: stores the value where the new flag does and says the new name."""

    def __init__(self, option_strings: list[str], dest: str, new_flag: str, **kwargs) -> None:
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)
        self.new_flag = new_flag

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"seqclf: {option_string} is now {self.new_flag} here; the old spelling goes in the next release",
              file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_old_spelling(parser: argparse._ActionsContainer, old: str, new: str, dest: str, **kwargs) -> None:
    """`old`, renamed `new`: accepted, hidden from --help and with a note, for one release."""
    parser.add_argument(old, dest=dest, action=OldSpelling, new_flag=new, **kwargs)


def add_engine_flags(parser: argparse.ArgumentParser) -> None:
    engine = parser.add_argument_group("the engine: what runs the model")
    engine.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="auto (default: ONNX Runtime when seqclf[onnx] is installed, from the model "
                             "directory's graph, written there the first time; else PyTorch), onnx (ONNX Runtime "
                             "only) or torch (PyTorch only)")
    engine.add_argument("--quantize", choices=QUANTIZATIONS,
                        help="int8: ONNX Runtime reads model.int8.onnx (written the first time); torch quantizes "
                             "dynamically on load")
    engine.add_argument("--onnx", metavar="FILE", help="the ONNX graph to run with --backend onnx "
                                                       "(default: model.onnx or model.int8.onnx in the model directory)")
    engine.add_argument("--threads", type=int, metavar="N",
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
