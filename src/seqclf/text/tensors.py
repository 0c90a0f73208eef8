"""Padded batches as PyTorch tensors, for training and for the PyTorch model's inference."""
from __future__ import annotations

import numpy as np
import torch

from seqclf.text.batching import pad_ids
from seqclf.ids import EncodedCorpus


def pad_batch(corpus: EncodedCorpus, indices: np.ndarray, length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """`pad_ids` as tensors: ids (B, T) int64 and lengths (B,) int64."""
    ids, lengths = pad_ids(corpus, indices, length)
    return torch.from_numpy(ids), torch.from_numpy(lengths)
