"""The model directory's files: their names, what each holds, and how config.json names the classes.

    config.json        every setting, as given (`seqclf.config`), format_version, the SHA-256 of
                       tokenizer.json, labels.json, model.safetensors and fitted.json (checked on load),
                       and id2label / label2id as Hugging Face configs name the classes
    fitted.json        what training learned besides the weights (`seqclf.fitted_state`): the task, the
                       resolved max_len, sizes, temperature, thresholds, the combination chosen, and
                       the fingerprint of the weights
    tokenizer.json     Hugging Face tokenizers format, with truncation/padding to max_len
    labels.json        class names, in the order of the model's outputs
    model.safetensors  weights only
    metrics.jsonl      one JSON object per training epoch (optional for loading)
    training_curve.png loss and accuracy curves (optional)
    model.onnx         the ONNX graph, if `seqclf export` wrote it here (optional; the int8 one:
                       model.int8.onnx); tied to the weights by a fingerprint in its metadata
    skipped_rows.jsonl the data rows training left out with --skip-bad-rows (file, line, problem, raw)
    distillation.json  a distilled student's teacher, the copies' settings and the validation comparison
                       (`seqclf.distill`; optional)
    checkpoint.safetensors  while training runs: the resume checkpoint (training/checkpoint.py), and
                       checkpoint.member<i>.safetensors for an ensemble's finished sequence models

"""
from __future__ import annotations

import re
from pathlib import Path

from seqclf.errors import ModelDirError

# 2: config.json holds checksums of the other files; 3: ensembles and n-gram evidence; 4: fitted.json
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
CONFIG, FITTED, TOKENIZER, LABELS, WEIGHTS, METRICS, CURVE = (
    "config.json", "fitted.json", "tokenizer.json", "labels.json", "model.safetensors", "metrics.jsonl",
    "training_curve.png")
REQUIRED = (CONFIG, TOKENIZER, LABELS, WEIGHTS)  # and FITTED, from format 4
CHECKSUMMED_BEFORE_4 = (TOKENIZER, LABELS, WEIGHTS)
CHECKSUMMED = (*CHECKSUMMED_BEFORE_4, FITTED)
ONNX, ONNX_INT8 = "model.onnx", "model.int8.onnx"
SKIPPED_ROWS = "skipped_rows.jsonl"
DISTILLATION = "distillation.json"
CHECKPOINT = "checkpoint.safetensors"
KNOWN_FILES = (*REQUIRED, FITTED, METRICS, CURVE, ONNX, ONNX_INT8, SKIPPED_ROWS, DISTILLATION)


def member_checkpoint(member: int) -> str:
    """While an ensemble trains: a finished sequence model, kept for --resume."""
    return f"checkpoint.member{member}.safetensors"


def is_checkpoint_file(name: str) -> bool:
    """The resume checkpoint, a finished member's, or a temporary file of their atomic writes."""
    return bool(re.fullmatch(r"\.?checkpoint(\.member\d+)?\.safetensors(\.\w+\.tmp)?", name))


def is_seqclf_file(name: str) -> bool:
    """A file seqclf writes into a model directory; a save replaces these and keeps anything else."""
    return name in KNOWN_FILES or is_checkpoint_file(name)


def onnx_path(directory: Path, quantize: str | None) -> Path:
    """Where `seqclf export` writes the graph by default, and where `--backend onnx` looks for it."""
    return directory / (ONNX_INT8 if quantize else ONNX)


LABEL_MAPS = ("id2label", "label2id")


def label_maps(classes: list[str]) -> dict:
    """config.json's `id2label` and `label2id`, as Hugging Face's configs name the classes (ids as strings,
    as JSON keys are); labels.json stays the one the model reads, these are checked against it."""
    return {"id2label": {str(i): name for i, name in enumerate(classes)},
            "label2id": {name: i for i, name in enumerate(classes)}}


def check_label_maps(directory: Path, found: dict, classes: list[str]) -> None:
    """`found`: the `LABEL_MAPS` config.json holds (directories before them have none), checked against
    labels.json's classes."""
    expected = label_maps(classes)
    for key, value in found.items():
        if value != expected[key]:
            raise ModelDirError(f"does not name the classes of {LABELS} in their order", path=directory / CONFIG,
                                field=key, hint="re-save the model")
