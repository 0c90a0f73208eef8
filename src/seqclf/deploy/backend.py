"""Which engine runs stages 3-5 for predictions: ONNX Runtime or PyTorch, float32 or int8.

An engine answers `run(corpus)`, logits and probabilities: an ONNX Runtime session (`OnnxRuntimeModel`) or
the PyTorch model or its int8 copy (`TorchEngine`). The default backend, `auto`, is the fastest one
that can run the model: ONNX Runtime for a saved model when it is installed, from the graph in the model
directory, exported there (atomically, tied to the weights' fingerprint) the first time it is needed or
when the weights changed; PyTorch for a model not saved, an encoder that cannot be exported, or when the
export fails (an `EngineFallback` event says why). Whatever the backend, tokenization and everything after
the logits are the same code, and the prediction trace and data-flow table show the float32
PyTorch model (its stages are what they explain).
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from seqclf.artifacts import ModelParts
from seqclf.model_files import onnx_path
from seqclf.deploy.graph import UNEXPORTABLE, ExportError
from seqclf.deploy.quantize import QUANTIZATIONS, quantize_torch
from seqclf.errors import ConfigError, WriteError
from seqclf.fields import check_choice
from seqclf.ids import EncodedCorpus
from seqclf.text.batching import Chunking
from seqclf.threads import ThreadChoice, choose_threads, denormals_flushed

if TYPE_CHECKING:
    from seqclf.deploy.onnx_export import ExportReport

BACKENDS = ("auto", "torch", "onnx")
ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")  # export needs all three; seqclf[onnx] installs them


class Engine(Protocol):
    """What runs stages 3-5 for predictions: (N, C) logits and probabilities (softmax, or a multi-label model's
    sigmoids) of an encoded corpus, in input order. Long texts read in windows pool the windows' logits and
    make their probabilities with the model's task, the same for every engine. `threads`: how many it
    computes with, and why."""

    threads: ThreadChoice
    description: str  # e.g. "ONNX Runtime fp32", "PyTorch int8"

    def run(self, corpus: EncodedCorpus) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class BackendConfig:
    """What runs the model for predictions. Checked once, when it is made."""

    backend: str = "auto"  # the fastest engine that can run the model (see above)
    quantize: str | None = None  # None (float32) or "int8"
    onnx_file: str | None = None  # default: model.onnx or model.int8.onnx in the model directory
    threads: int | None = None  # None: the cores this process can get now (`seqclf.threads`)

    def __post_init__(self) -> None:
        check_choice("backend", self.backend, BACKENDS)
        check_choice("quantize", self.quantize, QUANTIZATIONS, allow_none=True)
        if self.onnx_file is not None and self.backend != "onnx":
            raise ConfigError("an ONNX file is only read by the onnx backend", field="onnx",
                              hint="add --backend onnx")
        if self.threads is not None and (type(self.threads) is not int or self.threads < 1):
            raise ConfigError(f"must be a whole number of at least 1, got {self.threads!r}", field="threads")

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return f"{self.backend} {self.quantize or 'fp32'}"

    @property
    def is_default(self) -> bool:
        """The default engine for the float32 model (whatever the threads)."""
        return self.backend == "auto" and self.quantize is None and self.onnx_file is None


@dataclass(frozen=True)
class GraphExporting:
    """The engine is exporting the model's graph to `path`, once: later runs read it."""

    path: Path


@dataclass(frozen=True)
class EngineFallback:
    """The default engine runs the model on PyTorch instead of ONNX Runtime, because of `reason`."""

    reason: str


EngineEvent = GraphExporting | EngineFallback


def build_engine(parts: ModelParts, directory: Path | None, config: BackendConfig,
                 on_event: Callable[[EngineEvent], None] = lambda event: None) -> Engine:
    """The engine of this backend. Each imports its own runtime: ONNX Runtime's never imports PyTorch
    (unless the graph must be exported first)."""
    threads = choose_threads(config.threads)
    if config.backend == "torch" or (config.backend == "auto" and not _graph_possible(parts, directory)):
        return _torch_engine(parts, config, threads)
    if config.onnx_file is not None:
        return _runtime(Path(config.onnx_file), parts, config, threads)
    if directory is None:
        raise ConfigError("the onnx backend needs an exported file", field="onnx",
                          hint="export one with TextClassifier.export_onnx(path) and pass onnx_file=path")
    from seqclf.deploy.onnx_runtime import GraphNotCurrent

    path = onnx_path(directory, config.quantize)
    try:
        return _runtime(path, parts, config, threads)
    except GraphNotCurrent:
        pass  # none yet, or one of other weights: export it (again)
    try:
        on_event(GraphExporting(path))
        export_graph(parts, path, config.quantize, Chunking.of(parts.config.tokenizer, parts.tokenizer.max_len))
    except (ExportError, WriteError) as exc:  # e.g. an encoder's op the exporter lacks, a read-only directory
        if config.backend == "onnx":
            raise
        on_event(EngineFallback(str(exc)))
        return _torch_engine(parts, config, threads)
    return _runtime(path, parts, config, threads)


def _graph_possible(parts: ModelParts, directory: Path | None) -> bool:
    """Whether the default engine can be ONNX Runtime's: a saved model, ONNX packages installed, an
    encoder that exports. Known without importing PyTorch."""
    return (directory is not None and not set(parts.config.encoders) & set(UNEXPORTABLE)
            and all(importlib.util.find_spec(name) is not None for name in ONNX_PACKAGES))


def export_graph(parts: ModelParts, path: Path, quantize: str | None, chunking: Chunking | None) -> ExportReport:
    """Write the fitted model's graph at `path` (see `seqclf.deploy.onnx_export`)."""
    from seqclf.deploy.onnx_export import export_onnx

    return export_onnx(parts.model.on_cpu(), parts.classes, parts.tokenizer.max_len, path, quantize, chunking)


def _torch_engine(parts: ModelParts, config: BackendConfig, threads: ThreadChoice) -> Engine:
    from seqclf.inference import TorchEngine

    with denormals_flushed():  # the thread pool a load starts flushes them too
        model = parts.model
    if config.quantize:  # int8: on the CPU
        return TorchEngine(quantize_torch(model.on_cpu()), threads, quantized=True)
    return TorchEngine(model, threads)


def _runtime(path: Path, parts: ModelParts, config: BackendConfig, threads: ThreadChoice) -> Engine:
    from seqclf.deploy.onnx_runtime import OnnxRuntimeModel

    runtime = OnnxRuntimeModel(path, parts.classes, parts.weights_fingerprint(), threads)
    if config.quantize and runtime.quantization != config.quantize:
        held = "float32" if runtime.quantization == "none" else runtime.quantization
        raise ConfigError(f"{path} holds a {held} graph, not {config.quantize}", field="quantize",
                          hint=f"export one with `seqclf export MODEL_DIR --quantize {config.quantize}`")
    return runtime
