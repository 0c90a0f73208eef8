import pytest
import torch
from torch import nn

from seqclf.nn.classifier import ModelConfig, SequenceClassifier
from seqclf.training.optim import LazyAdam, build_optimizer, lr_multiplier


@pytest.mark.parametrize("sparse", [True, False])
def test_optimizer_updates_only_used_rows_when_sparse(sparse):
    torch.manual_seed(0)
    model = SequenceClassifier(ModelConfig(embed_dim=4, hidden_dim=3, bidirectional=False, pooling="last"), 20, 2,
                               sparse_gradients=sparse)
    optimizer = build_optimizer(model, lr=0.1, weight_decay=1e-4)
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


def test_lazy_adam_matches_torch_sparse_adam():
    torch.manual_seed(0)
    ours, reference = nn.Embedding(50, 4, sparse=True), nn.Embedding(50, 4, sparse=True)
    reference.load_state_dict(ours.state_dict())
    initial = ours.weight.detach().clone()
    optimizers = LazyAdam(ours.parameters(), lr=0.01), torch.optim.SparseAdam(reference.parameters(), lr=0.01)
    for _ in range(20):
        ids, weights = torch.randint(0, 50, (8, 5)), torch.randn(8, 5, 4)  # repeated ids included
        for embedding, optimizer in zip((ours, reference), optimizers):
            optimizer.zero_grad()
            (embedding(ids) * weights).sum().backward()
            optimizer.step()
    assert not torch.equal(ours.weight, initial)
    assert torch.allclose(ours.weight, reference.weight, atol=1e-6)


def test_linear_multiplier():
    schedule = lr_multiplier("linear", 0.0, total_steps=4)
    assert [schedule(s) for s in range(4)] == [1.0, 0.75, 0.5, 0.25]
    assert lr_multiplier("constant", 0.0, 4)(3) == 1.0


def test_warmup_then_schedule():
    schedule = lr_multiplier("linear", 0.5, total_steps=8)
    assert [schedule(s) for s in range(8)] == [0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25]
    constant = lr_multiplier("constant", 0.25, total_steps=8)
    assert [constant(s) for s in range(4)] == [0.5, 1.0, 1.0, 1.0]
