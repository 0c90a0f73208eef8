"""Stages 3-5 in ONNX Runtime: an exported graph behind the same (ids, lengths) -> logits call as
the PyTorch model, so batching, ordering and everything after the logits stay shared."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from seqclf.deploy.onnx_export import INPUTS, META_LABELS, META_QUANTIZATION, META_WEIGHTS
from seqclf.errors import ModelDirError, SeqclfError


class OnnxRuntimeModel:
    """A session over one exported file, checked to belong to the model it stands in for."""

    def __init__(self, path: str | Path, classes: list[str], weights_fingerprint: str):
        try:
            import onnxruntime
        except ImportError:
            raise SeqclfError("the onnx backend needs ONNX Runtime", field="backend",
                              hint="pip install 'seqclf[onnx]'") from None
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelDirError("ONNX file not found", path=self.path,
                                hint="write it with `seqclf export MODEL_DIR` (add --quantize int8 for the int8 file)")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = len(os.sched_getaffinity(0))
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own error types: a damaged or foreign file
            raise ModelDirError(f"ONNX Runtime cannot load it: {str(exc).strip().splitlines()[0]}",
                                path=self.path) from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        if metadata.get(META_WEIGHTS) != weights_fingerprint:
            raise ModelDirError("was exported from other weights than this model directory's", path=self.path,
                                field=META_WEIGHTS, hint="export it again with `seqclf export MODEL_DIR`")
        if json.loads(metadata.get(META_LABELS, "null")) != classes:
            raise ModelDirError("its labels differ from the model directory's", path=self.path, field=META_LABELS)
        self.quantization = metadata.get(META_QUANTIZATION, "none")

    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # ids: (B, T) int64, lengths: (B,) int64 -> (B, C) logits
        mask = (np.arange(ids.shape[1])[None, :] < lengths.numpy()[:, None]).astype(np.int64)  # (B, T)
        logits = self.session.run(["logits"], dict(zip(INPUTS, (ids.numpy(), mask))))[0]
        return torch.from_numpy(logits)
