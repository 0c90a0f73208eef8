"""Batched inference over an encoded corpus: length-sorted batches, results in input order; and the
PyTorch model as an engine (`TorchEngine`) beside ONNX Runtime's (`deploy/onnx_runtime.py`)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from seqclf.text.batching import Chunking, sorted_batches
from seqclf.text.tensors import pad_batch
from seqclf.ids import EncodedCorpus
from seqclf.nn.modes import device_of, eval_mode
from seqclf.outputs import pool_window_tensors
from seqclf.threads import ThreadChoice, denormals_flushed


def predict_logits(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], corpus: EncodedCorpus,
                   indices: np.ndarray | None = None, batch_size: int = 512) -> torch.Tensor:
    """(N, C) logits for the corpus's sequences (or those at `indices`), in that order.

    `model`: a PyTorch module or any (ids, lengths) -> logits engine (e.g. an ONNX Runtime session)."""
    indices = np.arange(len(corpus)) if indices is None else np.asarray(indices)
    device = device_of(model)
    with eval_mode(model), torch.inference_mode():
        if len(indices) <= batch_size:  # one batch (e.g. one text): no sorting or reordering
            ids, lengths = pad_batch(corpus, indices)  # (N, T), (N,)
            return model(ids.to(device), lengths.to(device)).cpu()  # (N, C)
        out = None  # (N, C), filled batch by batch: no small tensors kept between the batches' buffers, which
        # kept glibc from giving freed memory back (validating 900,000 texts held 110-300 MB more until then)
        for positions in sorted_batches(corpus.lengths_at(indices), batch_size):
            ids, lengths = pad_batch(corpus, indices[positions])  # (B, T), (B,)
            logits = model(ids.to(device), lengths.to(device)).cpu()  # (B, C)
            if out is None:
                out = torch.empty((len(indices), logits.shape[1]), dtype=logits.dtype)
            out[torch.from_numpy(positions)] = logits
        return out


def text_logits(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], corpus: EncodedCorpus,
                indices: np.ndarray | None = None, chunking: Chunking | None = None) -> torch.Tensor:
    """`predict_logits`, or with `chunking` each text's logits pooled from those of its windows."""
    if chunking is None:
        return predict_logits(model, corpus, indices)
    pieces, owners, _ = chunking.windows(corpus, indices)
    texts = len(corpus) if indices is None else len(indices)
    return pool_window_tensors(predict_logits(model, pieces), torch.from_numpy(owners), texts, chunking.pooling)  # (N, C)


class TorchEngine:
    """A PyTorch model (float32, or its int8 copy) answering as every engine does: (N, C) logits and
    probabilities of an encoded corpus, in input order."""

    def __init__(self, model: torch.nn.Module, threads: ThreadChoice, quantized: bool = False) -> None:
        self.model = model
        self.description = f"PyTorch {'int8' if quantized else 'fp32'}"
        self.threads = threads
        torch.set_num_threads(threads.threads)  # one pool per process: the last engine made sets it

    def run(self, corpus: EncodedCorpus) -> tuple[np.ndarray, np.ndarray]:
        with denormals_flushed():
            logits = predict_logits(self.model, corpus)  # (N, C)
        return logits.numpy(), self.model.activate(logits).numpy()
