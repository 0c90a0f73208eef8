import pytest
import torch

from seqclf.nn.pooling import POOLINGS, build_pooling


@pytest.mark.parametrize("pooling", sorted(POOLINGS))
@pytest.mark.parametrize("directions", [1, 2])
def test_pooling_ignores_values_on_padding(pooling, directions):
    outputs = torch.randn(3, 7, 4 * directions)
    lengths = torch.tensor([7, 2, 5])
    poisoned = outputs.clone()
    for b, n in enumerate(lengths.tolist()):
        poisoned[b, n:] = 1e6
    pool = build_pooling(pooling, outputs.size(2))
    assert torch.allclose(pool(outputs, lengths, directions), pool(poisoned, lengths, directions), atol=1e-6)


def test_last_pooling_takes_forward_end_and_backward_start():
    outputs = torch.arange(2 * 4 * 4, dtype=torch.float32).view(2, 4, 4)  # H = 2 per direction
    pooled = POOLINGS["last"](outputs, torch.tensor([3, 1]), 2)
    assert pooled[0].tolist() == outputs[0, 2, :2].tolist() + outputs[0, 0, 2:].tolist()
    assert pooled[1].tolist() == outputs[1, 0, :2].tolist() + outputs[1, 0, 2:].tolist()
