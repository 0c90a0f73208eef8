"""The exported graph's interface, which the exporter writes and ONNX Runtime's engine reads: input and
output names (see deploy/onnx_export.py for their types and shapes), the keys of its metadata, and the
encoders it cannot hold (known without importing PyTorch or the exporter)."""
from __future__ import annotations

from seqclf.errors import SeqclfError

INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("logits", "probabilities")
META_WEIGHTS, META_LABELS, META_MAX_LEN, META_QUANTIZATION, META_VERSION, META_TASK, META_LONG_TEXT = (
    "seqclf.weights_sha256", "seqclf.labels", "seqclf.max_len", "seqclf.quantization", "seqclf.version", "seqclf.task",
    "seqclf.long_text")
# Encoders PyTorch's exporter cannot turn into a graph for every sequence length.
UNEXPORTABLE = {
    "rnn": "PyTorch's ONNX exporter unrolls nn.RNN over the example's length, so the graph would only "
           "accept that one length; train with --encoder gru or --encoder lstm to export",
}


class ExportError(SeqclfError):
    """The model cannot be written as (or run from) an ONNX graph."""
