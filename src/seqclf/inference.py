"""Batched inference over an encoded corpus: length-sorted batches, results in input order."""
from __future__ import annotations

import torch
from torch import nn

from seqclf.data.batching import EncodedCorpus, pad_batch, sorted_batches


def predict_logits(model: nn.Module, corpus: EncodedCorpus, batch_size: int = 512) -> torch.Tensor:
    """(N, C) logits for every sequence of the corpus, in corpus order."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            chunks, order = [], []
            for indices in sorted_batches(corpus.lengths, batch_size):
                ids, lengths = pad_batch(corpus, indices)  # (B, T), (B,)
                chunks.append(model(ids, lengths))  # (B, C)
                order.append(torch.from_numpy(indices))
            logits = torch.cat(chunks)  # (N, C), length order
            out = torch.empty_like(logits)
            out[torch.cat(order)] = logits
            return out
    finally:
        model.train(was_training)
