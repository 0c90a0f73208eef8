import subprocess
import sys

import pytest
import torch
from torch import nn

from seqclf.nn.classifier import SequenceClassifier
from seqclf.nn.settings import ModelConfig
from seqclf.training.optim import AdamW, LazyAdam, build_optimizer
from seqclf.training.schedules import lr_multiplier


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


def _dense_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))


def _train(model: nn.Module, optimizer, steps: range, lrs=(0.01, 0.003)) -> None:
    for step in steps:
        generator = torch.Generator().manual_seed(step)
        x, y = torch.randn(8, 6, generator=generator), torch.randint(0, 3, (8,), generator=generator)
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        for group in optimizer.param_groups:
            group["lr"] = lrs[step % len(lrs)]  # as the trainer sets it each step
        optimizer.step()


def test_adamw_is_torchs_fused_adamw_to_the_bit():
    ours, reference = _dense_model(0), _dense_model(0)
    _train(ours, AdamW(ours.parameters(), lr=0.01, weight_decay=0.05), range(30))
    _train(reference, torch.optim.AdamW(reference.parameters(), lr=0.01, weight_decay=0.05, fused=True), range(30))
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), reference.parameters()))


def test_a_restored_state_continues_exactly():
    whole, resumed = _dense_model(1), _dense_model(1)
    optimizer = AdamW(whole.parameters(), weight_decay=0.01)
    _train(whole, optimizer, range(20))
    first = AdamW(resumed.parameters(), weight_decay=0.01)
    _train(resumed, first, range(10))
    saved = first.state_dict()
    assert sorted(saved["state"]) == list(range(4)) and saved["param_groups"][0]["params"] == [0, 1, 2, 3]
    second = AdamW(resumed.parameters(), weight_decay=0.01)
    second.load_state_dict(saved)
    _train(resumed, second, range(10, 20))
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), resumed.parameters()))


def test_training_never_imports_torchdynamo():
    """torch.optim's optimizers import TorchDynamo when made: over a second of every training process."""
    script = ("import sys; from seqclf import TextClassifier; "
              "TextClassifier(epochs=1, max_len=8).fit(['good film', 'bad film', 'fine', 'awful'] * 8, "
              "['p', 'n', 'p', 'n'] * 8); print('torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
