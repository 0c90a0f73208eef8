"""Which engine runs stages 3-5 for predictions: PyTorch or ONNX Runtime, float32 or int8.

An engine answers `run(corpus)`, logits and probabilities: the PyTorch model or its int8 copy (`TorchEngine`), or an
ONNX Runtime session (`OnnxRuntimeModel`). Whatever the backend, tokenization and everything after
the logits are the same code, and the prediction trace and data-flow table show the float32
PyTorch model (its stages are what they explain).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from seqclf.artifacts import ModelParts, onnx_path
from seqclf.deploy.quantize import QUANTIZATIONS, quantize_torch
from seqclf.errors import ConfigError
from seqclf.fields import check_choice
from seqclf.ids import EncodedCorpus
from seqclf.threads import ThreadChoice, choose_threads

BACKENDS = ("torch", "onnx")


class Engine(Protocol):
    """What runs stages 3-5 for predictions: (N, C) logits and probabilities (softmax, or a multi-label model's
    sigmoids) of an encoded corpus, in input order. Long texts read in windows pool the windows' logits and
    make their probabilities with the model's task, the same for every engine. `threads`: how many it
    computes with, and why."""

    threads: ThreadChoice

    def run(self, corpus: EncodedCorpus) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class BackendConfig:
    """What runs the model for predictions. Checked once, when it is made."""

    backend: str = "torch"
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
        """The float32 PyTorch model (whatever the threads)."""
        return self.backend == "torch" and self.quantize is None and self.onnx_file is None


def build_engine(parts: ModelParts, directory: Path | None, config: BackendConfig) -> Engine:
    """The engine of this backend. Each imports its own runtime: ONNX Runtime's never imports PyTorch."""
    threads = choose_threads(config.threads)
    if config.backend == "torch":
        from seqclf.inference import TorchEngine

        model = parts.model
        return TorchEngine(quantize_torch(model.on_cpu()) if config.quantize else model, threads)  # int8: CPU
    from seqclf.deploy.onnx_runtime import OnnxRuntimeModel

    if config.onnx_file is None and directory is None:
        raise ConfigError("the onnx backend needs an exported file", field="onnx",
                          hint="export one with TextClassifier.export_onnx(path) and pass onnx_file=path")
    path = Path(config.onnx_file) if config.onnx_file else onnx_path(directory, config.quantize)
    runtime = OnnxRuntimeModel(path, parts.classes, parts.weights_fingerprint(), threads)
    if config.quantize and runtime.quantization != config.quantize:
        held = "float32" if runtime.quantization == "none" else runtime.quantization
        raise ConfigError(f"{path} holds a {held} graph, not {config.quantize}", field="quantize",
                          hint=f"export one with `seqclf export MODEL_DIR --quantize {config.quantize}`")
    return runtime
