"""Stages 3-5 in ONNX Runtime: an exported graph answering as every engine does, (N, C) logits and
probabilities of an encoded corpus in input order, with NumPy arrays only (no PyTorch on this path)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seqclf.text.batching import pad_ids, sorted_batches
from seqclf.deploy.graph import INPUTS, META_LABELS, META_QUANTIZATION, META_WEIGHTS
from seqclf.errors import ModelDirError, SeqclfError
from seqclf.ids import EncodedCorpus
from seqclf.threads import ThreadChoice, choose_threads


class GraphNotCurrent(ModelDirError):
    """No graph at the path, or one exported from other weights or labels: export it (again)."""


class OnnxRuntimeModel:
    """A session over one exported file, checked to belong to the model it stands in for."""

    def __init__(self, path: str | Path, classes: list[str], weights_fingerprint: str,
                 threads: ThreadChoice | None = None):
        try:
            import onnxruntime
        except ImportError:
            raise SeqclfError("the onnx backend needs ONNX Runtime", field="backend",
                              hint="pip install 'seqclf[onnx]'") from None
        self.path = Path(path)
        if not self.path.is_file():
            raise GraphNotCurrent("ONNX file not found", path=self.path,
                                hint="write it with `seqclf export MODEL_DIR` (add --quantize int8 for the int8 file)")
        self.threads = threads or choose_threads()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads.threads
        options.inter_op_num_threads = 1
        # idle threads sleep instead of spinning: a spinning thread takes a core another process needs
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own error types: a damaged or foreign file
            raise GraphNotCurrent(f"ONNX Runtime cannot load it: {str(exc).strip().splitlines()[0]}",
                                path=self.path) from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        if metadata.get(META_WEIGHTS) != weights_fingerprint:
            raise GraphNotCurrent("was exported from other weights than this model directory's", path=self.path,
                                field=META_WEIGHTS, hint="export it again with `seqclf export MODEL_DIR`")
        if json.loads(metadata.get(META_LABELS, "null")) != classes:
            raise GraphNotCurrent("its labels differ from the model directory's", path=self.path, field=META_LABELS)
        self.quantization = metadata.get(META_QUANTIZATION, "none")
        self.description = f"ONNX Runtime {'fp32' if self.quantization == 'none' else self.quantization}"
        self.num_classes, self.outputs = len(classes), ["logits", "probabilities"]

    def run(self, corpus: EncodedCorpus, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """(N, C) logits and the graph's own probabilities, in input order; batches sorted by length."""
        if len(corpus) == 1:  # one text: no sorting, no padding, no mask to compute
            ids = corpus.sequence(0).astype(np.int64)[None, :]  # (1, T)
            return self._run(ids, np.ones_like(ids))
        logits, probabilities = (np.empty((len(corpus), self.num_classes), dtype=np.float32) for _ in range(2))
        for positions in sorted_batches(corpus.lengths, batch_size):
            ids, lengths = pad_ids(corpus, positions)  # (B, T), (B,)
            mask = (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.int64)  # (B, T)
            logits[positions], probabilities[positions] = self._run(ids, mask)
        return logits, probabilities

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, probabilities = self.session.run(self.outputs, {INPUTS[0]: ids, INPUTS[1]: mask})
        return logits, probabilities
