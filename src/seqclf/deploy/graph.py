"""The exported graph's interface, which the exporter writes and ONNX Runtime's engine reads: input and
output names (see deploy/onnx_export.py for their types and shapes) and the keys of its metadata."""
from __future__ import annotations

INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("logits", "probabilities")
META_WEIGHTS, META_LABELS, META_MAX_LEN, META_QUANTIZATION, META_VERSION, META_TASK, META_LONG_TEXT = (
    "seqclf.weights_sha256", "seqclf.labels", "seqclf.max_len", "seqclf.quantization", "seqclf.version", "seqclf.task",
    "seqclf.long_text")
