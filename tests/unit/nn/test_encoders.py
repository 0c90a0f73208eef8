"""The padded fast path against PyTorch's packed reference: same outputs and gradients."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqclf.nn.settings import ModelConfig
from seqclf.nn.encoders import RECURRENT_CELLS, RecurrentEncoder, reverse_within_length
from seqclf.nn.pooling import pool_last, valid_steps

E, H = 7, 5


def pair(layers: int, bidirectional: bool, cell: str = "lstm") -> tuple[RecurrentEncoder, nn.RNNBase]:
    """Our encoder and PyTorch's own recurrent module with the same weights."""
    torch.manual_seed(1)
    ours = RecurrentEncoder(ModelConfig(encoder=cell, embed_dim=E, hidden_dim=H, num_layers=layers,
                                        bidirectional=bidirectional, dropout=0.0)).double()
    reference = RECURRENT_CELLS[cell](E, H, num_layers=layers, bidirectional=bidirectional, batch_first=True).double()
    with torch.no_grad():
        for layer, directions in enumerate(ours.layers):
            for direction, cell in enumerate(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(cell, f"{name}_l0").copy_(getattr(reference, name + suffix))
    return ours, reference


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=5), layers=st.integers(1, 2),
       bidirectional=st.booleans(), seed=st.integers(0, 999), cell=st.sampled_from(sorted(RECURRENT_CELLS)))
def test_fast_path_matches_packed_reference(lengths, layers, bidirectional, seed, cell):
    ours, reference = pair(layers, bidirectional, cell)
    generator = torch.Generator().manual_seed(seed)
    steps = max(lengths) + 2  # trailing padding on every sequence
    x = torch.randn(len(lengths), steps, E, dtype=torch.float64, generator=generator)
    lengths = torch.tensor(lengths)
    mask = valid_steps(lengths, steps).unsqueeze(2)  # (B, T, 1)
    weights = torch.randn(len(lengths), steps, H * (2 if bidirectional else 1), dtype=torch.float64, generator=generator)

    x_ours = x.clone().requires_grad_()
    outputs = ours(x_ours, lengths)  # (B, T, D * H)
    last = pool_last(outputs, lengths, 2 if bidirectional else 1)  # (B, D * H)

    x_ref = x.clone().requires_grad_()
    packed = pack_padded_sequence(x_ref, lengths, batch_first=True, enforce_sorted=False)
    ref_packed, state = reference(packed)
    hidden = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c); GRU and RNN: h
    ref_outputs, _ = pad_packed_sequence(ref_packed, batch_first=True, total_length=steps)
    ref_last = torch.cat([hidden[-2], hidden[-1]], dim=1) if bidirectional else hidden[-1]

    assert torch.allclose(outputs * mask, ref_outputs * mask, atol=1e-5)
    assert torch.allclose(last, ref_last, atol=1e-5)

    ((outputs * mask * weights).sum() + last.pow(2).sum()).backward()
    ((ref_outputs * mask * weights).sum() + ref_last.pow(2).sum()).backward()
    assert torch.allclose(x_ours.grad, x_ref.grad, atol=1e-5)
    for layer, directions in enumerate(ours.layers):
        for direction, cell in enumerate(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                assert torch.allclose(getattr(cell, f"{name}_l0").grad, getattr(reference, name + suffix).grad,
                                      atol=1e-5), name + suffix


@pytest.mark.parametrize("bidirectional", [False, True])
def test_float32_fast_path_matches_within_1e_5(bidirectional):
    ours, reference = pair(1, bidirectional)
    ours, reference = ours.float(), reference.float()
    x = torch.randn(16, 30, E)
    lengths = torch.randint(1, 31, (16,))
    with torch.no_grad():
        last = pool_last(ours(x, lengths), lengths, 2 if bidirectional else 1)
        _, (hidden, _) = reference(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    ref_last = torch.cat([hidden[-2], hidden[-1]], dim=1) if bidirectional else hidden[-1]
    assert (last - ref_last).abs().max().item() <= 1e-5


def test_reverse_within_length_keeps_padding_in_place_and_is_its_own_inverse():
    x = torch.arange(1, 7, dtype=torch.float32).view(1, 6, 1).repeat(2, 1, 1)  # (2, 6, 1)
    lengths = torch.tensor([4, 6])
    reversed_x = reverse_within_length(x, lengths)
    assert reversed_x[0, :, 0].tolist() == [4, 3, 2, 1, 5, 6]
    assert reversed_x[1, :, 0].tolist() == [6, 5, 4, 3, 2, 1]
    assert torch.equal(reverse_within_length(reversed_x, lengths), x)
