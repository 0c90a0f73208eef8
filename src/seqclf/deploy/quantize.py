"""Dynamic int8 quantization, for either backend: every weight matrix stored as 8-bit integers.

Linear, recurrent and convolution weights are int8 with a scale, and their inputs are quantized on
the fly per batch; embedding tables (token and bigram) are 8-bit too, dequantized row by row as they
are looked up. Without the tables, int8 would hardly shrink the usual model, whose vocabulary
dominates its size.

    torch backend   torch.ao.quantization.quantize_dynamic: nn.Linear, nn.LSTM, nn.GRU (int8), and
                    nn.Embedding (8-bit with a scale per row)
    ONNX file       onnxruntime.quantization.quantize_dynamic: MatMul (Gemm turned into MatMul), LSTM,
                    Conv and Gather (the tables, one scale each). ONNX Runtime has no integer GRU:
                    GRU weights stay float32 there.

PyTorch is imported by the functions that use it: predicting with ONNX Runtime never loads it.
"""
from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from seqclf.deploy.silence import quiet
from seqclf.errors import ConfigError

if TYPE_CHECKING:
    from torch import nn

QUANTIZATIONS = ("int8",)
ONNX_QUANTIZED_OPS = ["MatMul", "LSTM", "Conv", "Gather"]


def quantize_torch(model: nn.Module) -> nn.Module:
    """An int8 copy of the model for CPU inference; the original is unchanged."""
    import torch
    from torch import nn

    try:
        from torch.ao.quantization import default_dynamic_qconfig, float_qparams_weight_only_qconfig, quantize_dynamic
    except ImportError:
        raise ConfigError(f"this PyTorch ({torch.__version__}) has no dynamic quantization", field="quantize",
                          hint="use --backend onnx --quantize int8") from None
    with warnings.catch_warnings():  # PyTorch points new code to torchao; dynamic quantization still works
        warnings.simplefilter("ignore")
        plan = {nn.Linear: default_dynamic_qconfig, nn.LSTM: default_dynamic_qconfig, nn.GRU: default_dynamic_qconfig,
                nn.Embedding: float_qparams_weight_only_qconfig}
        return quantize_dynamic(model, plan, dtype=torch.qint8).eval()


def torch_weight_bytes(model: nn.Module) -> int:
    """Bytes of the model's weights as serialized (quantized modules keep packed weights, not tensors)."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def quantize_onnx(data: bytes) -> bytes:
    """The int8 version of a serialized ONNX graph."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load_from_string(data)
    # The quantizer rewrites Gemm as MatMul with a transposed weight but keeps the exporter's shape
    # annotations, which then contradict it; they are optional, so it infers them afresh.
    model.graph.ClearField("value_info")
    with tempfile.TemporaryDirectory() as scratch, quiet(""):  # its advice goes to the root logger
        quantized = Path(scratch) / "model.int8.onnx"
        quantize_dynamic(model, quantized, op_types_to_quantize=ONNX_QUANTIZED_OPS, weight_type=QuantType.QInt8)
        return quantized.read_bytes()
