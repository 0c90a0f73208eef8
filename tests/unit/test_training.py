import pytest
import torch
from torch import nn

from seqclf.config import ModelConfig, TrainConfig
from seqclf.nn.classifier import SequenceClassifier
from seqclf.training.optim import build_optimizer, lr_multiplier
from seqclf.training.trainer import clip_gradients


def test_clipping_counts_sparse_gradients_like_dense_ones():
    dense_embedding = nn.Embedding(10, 3)
    sparse_embedding = nn.Embedding(10, 3, sparse=True)
    sparse_embedding.weight.data.copy_(dense_embedding.weight.data)
    ids = torch.tensor([1, 1, 4, 7])  # a repeated row: its gradients add up
    for embedding in (dense_embedding, sparse_embedding):
        (embedding(ids) * torch.arange(12.0).view(4, 3)).sum().backward()
    clip_gradients([dense_embedding.weight], 1.0)
    clip_gradients([sparse_embedding.weight], 1.0)
    assert torch.allclose(sparse_embedding.weight.grad.to_dense(), dense_embedding.weight.grad)
    assert torch.linalg.vector_norm(dense_embedding.weight.grad).item() == pytest.approx(1.0, abs=1e-5)


def test_clipping_leaves_small_gradients_alone():
    weight = nn.Parameter(torch.zeros(3))
    weight.grad = torch.tensor([0.1, 0.2, 0.2])
    clip_gradients([weight], 5.0)
    assert weight.grad.tolist() == pytest.approx([0.1, 0.2, 0.2])


@pytest.mark.parametrize("sparse", [True, False])
def test_optimizer_updates_only_used_rows_when_sparse(sparse):
    torch.manual_seed(0)
    model = SequenceClassifier(ModelConfig(embed_dim=4, hidden_dim=3, bidirectional=False, pooling="last"), 20, 2,
                               sparse_gradients=sparse)
    optimizer = build_optimizer(model, TrainConfig(lr=0.1, sparse_embedding=sparse))
    before = model.embedding.weight.detach().clone()
    logits = model(torch.tensor([[2, 3, 0]]), torch.tensor([2]))
    nn.functional.cross_entropy(logits, torch.tensor([1])).backward()
    optimizer.step()
    changed = (model.embedding.weight != before).any(dim=1).nonzero().flatten().tolist()
    if sparse:
        assert changed == [2, 3]
    else:
        assert {2, 3} <= set(changed)
    assert model.embedding.weight.grad.is_sparse == sparse


def test_linear_multiplier():
    schedule = lr_multiplier(TrainConfig(lr_schedule="linear"), total_steps=4)
    assert [schedule(s) for s in range(4)] == [1.0, 0.75, 0.5, 0.25]
    assert lr_multiplier(TrainConfig(), 4)(3) == 1.0
