"""Stages 3-5 as an ONNX graph: token ids and attention mask in, logits and probabilities out.

The graph reads exactly what the saved `tokenizer.json` produces (Hugging Face `tokenizers`, padded
on the right to max_len), so a consumer in any language needs the tokenizer file and this graph:

    input_ids       int64    (batch, sequence)   token ids, <pad> = 0
    attention_mask  int64    (batch, sequence)   1 on real tokens, 0 on padding (padding on the right)
    logits          float32  (batch, classes)
    probabilities   float32  (batch, classes)    softmax of logits (multi-label: each label's sigmoid, metadata
                                                 `task`); columns in the order of `labels`

Both axes are dynamic. The file's metadata carries the labels, max_len, the task, how long texts are
read (truncated, or in windows whose logits are pooled) and a fingerprint of the weights it was
exported from. Export is PyTorch's own exporter (`torch.onnx.export`, dynamo);
the result is checked with `onnx.checker` and run once in ONNX Runtime against PyTorch before
anything is written, so a graph that does not reproduce the model is an error, never a file.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqclf.text.batching import Chunking
from seqclf.deploy.graph import (INPUTS, META_LABELS, META_LONG_TEXT, META_MAX_LEN, META_QUANTIZATION, META_TASK,
                                 META_VERSION, META_WEIGHTS, OUTPUTS, UNEXPORTABLE, ExportError)
from seqclf.deploy.quantize import quantize_onnx
from seqclf.deploy.silence import quiet
from seqclf.fileio import write_file_atomically
from seqclf.ids import UNK_ID
from seqclf.nn.classifier import Classifier
from seqclf.nn.encoders import ENCODERS
from seqclf.nn.modes import eval_mode
from seqclf.version import __version__

OPSET = 18
FOLD_ANY_SIZE = 1 << 40
PARITY_TOLERANCE = 1e-4  # probabilities, ONNX Runtime fp32 vs PyTorch
EXPORTABLE = [name for name in ENCODERS if name not in UNEXPORTABLE]


class IdsToProbabilities(nn.Module):
    """The exported computation: the classifier, with lengths read from the attention mask."""

    def __init__(self, model: Classifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # input_ids, attention_mask: (B, T) int64
        lengths = attention_mask.sum(dim=1)  # (B,)
        # A text with no tokens reads as one <unk>, as in `WordTokenizer.encode`.
        first_step = torch.arange(input_ids.size(1), device=input_ids.device).unsqueeze(0) == 0  # (1, T)
        input_ids = torch.where(first_step & (lengths == 0).unsqueeze(1), UNK_ID, input_ids)  # (B, T)
        logits = self.model(input_ids, lengths.clamp(min=1))  # (B, C)
        return logits, self.model.activate(logits)  # softmax, or each label's sigmoid


@dataclass(frozen=True)
class ExportReport:
    path: Path
    bytes: int
    fp32_bytes: int  # the unquantized graph's size (equal to `bytes` without quantization)
    quantization: str  # "none" or "int8"
    parity_error: float  # max |probability difference| vs PyTorch on the check batch (fp32 graph)
    inputs: tuple[str, ...] = INPUTS  # int64 (batch, sequence) each
    outputs: tuple[str, ...] = OUTPUTS  # float32 (batch, classes) each


def export_onnx(model: Classifier, classes: list[str], max_len: int, path: str | Path,
                quantize: str | None = None, chunking: Chunking | None = None) -> ExportReport:
    """Write the model as an ONNX graph at `path` (atomically), optionally int8-quantized. With `chunking`
    (long_text=chunk), the metadata says how a long text's windows are made and pooled: the graph classifies
    windows, and a consumer pools their logits."""
    _require_onnx_packages()
    path = Path(path)
    model = _on_cpu(model)
    graph = to_onnx(model)
    graph.metadata_props.clear()
    for key, value in {
        META_WEIGHTS: model.weights_fingerprint(),
        META_LABELS: json.dumps(classes, ensure_ascii=False),
        META_MAX_LEN: str(max_len),
        META_QUANTIZATION: quantize or "none",
        META_TASK: model.task.name,
        META_LONG_TEXT: json.dumps({"long_text": "truncate"} if chunking is None else {
            "long_text": "chunk", "window": chunking.max_len, "stride": chunking.stride, "pooling": chunking.pooling}),
        META_VERSION: __version__,
    }.items():
        graph.metadata_props.add(key=key, value=value)
    graph.doc_string = (f"seqclf {encoders_text(model)} classifier. Inputs: input_ids, attention_mask (int64, "
                        f"batch x sequence, from tokenizer.json). Outputs: logits, probabilities (float32, "
                        f"batch x {len(classes)}; {model.task.activation}), classes in the "
                        f"order of metadata '{META_LABELS}'.")
    fp32 = graph.SerializeToString()
    parity = check_against_torch(fp32, model)
    data = quantize_onnx(fp32) if quantize == "int8" else fp32
    if quantize == "int8":
        check_runs(data, model)
    write_file_atomically(path, lambda temporary: temporary.write_bytes(data))
    return ExportReport(path, len(data), len(fp32), quantize or "none", parity)


def _on_cpu(model: Classifier) -> Classifier:
    """The model when it lives on the CPU, else a CPU copy (a model trained on a GPU): the graph is traced
    on, and checked against, the CPU, where ONNX Runtime runs it."""
    if next(model.parameters()).device.type == "cpu":
        return model
    return copy.deepcopy(model).cpu()


def _require_onnx_packages() -> None:
    for name in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            raise ExportError(f"ONNX export needs the {name} package", hint="pip install 'seqclf[onnx]'") from None


def to_onnx(model: Classifier):
    """The checked `onnx.ModelProto` of the model (eval mode), dynamic in batch and sequence length."""
    import onnx
    import onnxscript.optimizer

    unexportable = [name for name in model.encoders if name in UNEXPORTABLE]
    if unexportable:
        raise ExportError(f"the {unexportable[0]} encoder cannot be exported to ONNX: "
                          f"{UNEXPORTABLE[unexportable[0]]}", field="encoder")
    encoder = encoders_text(model)
    example = (torch.tensor([[2, 3, 4], [5, 6, 0]]), torch.tensor([[1, 1, 1], [1, 1, 0]]))  # (2, 3) each
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    _forget_cached_rnn_kernels()
    try:
        with eval_mode(model), quiet("torch.onnx"):
            program = torch.onnx.export(
                IdsToProbabilities(model), example, None, input_names=list(INPUTS), output_names=list(OUTPUTS),
                dynamic_shapes={name: {0: batch, 1: sequence} for name in INPUTS}, opset_version=OPSET,
                dynamo=True, verbose=False)
        # Fold what depends on weights only (e.g. the LSTM gates reordered to ONNX's order) into
        # initializers, however large: the graph does less per call and the quantizer sees the weights.
        proto = onnxscript.optimizer.optimize(program.model_proto, input_size_limit=FOLD_ANY_SIZE,
                                              output_size_limit=FOLD_ANY_SIZE)
    except Exception as exc:  # the exporter raises many kinds; the user needs which encoder and why
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"the {encoder} encoder could not be exported to ONNX: {reason}", field="encoder",
                          hint=f"try another --encoder ({', '.join(EXPORTABLE)} export)") from None
    for node in proto.graph.node:  # the exporter's per-node debugging notes (stack traces): not part of the model
        del node.metadata_props[:]
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f"the exported {encoder} graph fails onnx.checker: {exc}", field="encoder") from None
    return proto


def _forget_cached_rnn_kernels() -> None:
    """For a dynamic time axis the exporter swaps in a while-loop LSTM/GRU kernel via the ops'
    `py_kernels`, which does not clear their dispatch caches: from the second export in a process on,
    the cached kernel wins and the graph is fixed to the example's length. Clearing them first
    makes every export like the first (the parity check below would catch a fixed length anyway)."""
    for op in (torch.ops.aten.lstm.input, torch.ops.aten.gru.input):
        cache = getattr(op, "_dispatch_cache", None)
        if isinstance(cache, dict):
            cache.clear()


def check_batch(vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids and mask of 4 texts of lengths 0 (no tokens), 7, 11 and 2, in a shape unlike the export
    example's: a graph that fixed either axis fails here."""
    rng = np.random.default_rng(0)
    lengths = np.array([0, 7, 11, 2])
    mask = (np.arange(11)[None, :] < lengths[:, None]).astype(np.int64)  # (4, 11)
    ids = rng.integers(2, max(vocab_size, 3), size=mask.shape) * mask  # (4, 11), <pad> after each length
    return ids.astype(np.int64), mask


def encoders_text(model: Classifier) -> str:
    """The model's encoders in words: "lstm", or an ensemble's "bag + lstm"."""
    return " + ".join(dict.fromkeys(model.encoders))


def check_against_torch(data: bytes, model: Classifier) -> float:
    """Max |probability difference| between ONNX Runtime and PyTorch on `check_batch`; over the
    tolerance is an ExportError."""
    ids, mask = check_batch(model.vocab_size)
    with torch.inference_mode(), eval_mode(model):
        expected = IdsToProbabilities(model)(torch.from_numpy(ids), torch.from_numpy(mask))[1].numpy()
    error = float(np.abs(_run_onnx(data, model, ids, mask) - expected).max())
    if not error <= PARITY_TOLERANCE:
        raise ExportError(f"the exported {encoders_text(model)} graph does not reproduce the model in ONNX Runtime "
                          f"(max probability difference {error:.2e} > {PARITY_TOLERANCE:g})", field="encoder",
                          hint="please report this with the model's config.json")
    return error


def check_runs(data: bytes, model: Classifier) -> None:
    """A quantized graph must run on any batch and length and give probabilities."""
    probabilities = _run_onnx(data, model, *check_batch(model.vocab_size))
    sums_right = model.task.probabilities_well_formed(probabilities)
    if probabilities.shape != (4, model.num_classes) or not sums_right:
        raise ExportError("the quantized graph does not give one probability row per text", field="quantize")


def _run_onnx(data: bytes, model: Classifier, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The graph's probabilities for the batch, in ONNX Runtime."""
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        return session.run(["probabilities"], {"input_ids": ids, "attention_mask": mask})[0]
    except Exception as exc:  # onnxruntime's own error types
        raise ExportError(f"ONNX Runtime cannot run the exported {encoders_text(model)} graph: "
                          f"{str(exc).strip().splitlines()[0]}", field="encoder") from None
