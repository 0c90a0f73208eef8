"""Batched inference over an encoded corpus: length-sorted batches, results in input order."""
from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from seqclf.data.batching import EncodedCorpus, pad_batch, sorted_batches


def predict_logits(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], corpus: EncodedCorpus,
                   indices: np.ndarray | None = None, batch_size: int = 512) -> torch.Tensor:
    """(N, C) logits for the corpus's sequences (or those at `indices`), in that order.

    `model`: a PyTorch module or any (ids, lengths) -> logits callable (e.g. an ONNX Runtime session)."""
    indices = np.arange(len(corpus)) if indices is None else np.asarray(indices)
    device = _device_of(model)
    was_training = isinstance(model, nn.Module) and model.training
    if was_training:  # switching modes walks every submodule: not on each call of a loaded model
        model.eval()
    try:
        with torch.inference_mode():
            if len(indices) <= batch_size:  # one batch (e.g. one text): no sorting or reordering
                ids, lengths = pad_batch(corpus, indices)  # (N, T), (N,)
                return model(ids.to(device), lengths.to(device)).cpu()  # (N, C)
            chunks, order = [], []
            for positions in sorted_batches(corpus.lengths[indices], batch_size):
                ids, lengths = pad_batch(corpus, indices[positions])  # (B, T), (B,)
                chunks.append(model(ids.to(device), lengths.to(device)).cpu())  # (B, C)
                order.append(torch.from_numpy(positions))
            logits = torch.cat(chunks)  # (N, C), in length order
            out = torch.empty_like(logits)
            out[torch.cat(order)] = logits
            return out
    finally:
        if was_training:
            model.train()


def _device_of(model: object) -> torch.device:
    """Where a module's tensors live; the CPU for other callables and for int8 modules (no parameters left)."""
    if isinstance(model, nn.Module):
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            return tensor.device
    return torch.device("cpu")
