import torch
from torch import nn

from seqclf.nn.modes import device_of, eval_mode


def test_eval_mode_restores_the_mode_it_found():
    module = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with eval_mode(module):
        assert not module.training and not module[1].training
    assert module.training and module[1].training
    module.eval()
    with eval_mode(module):
        assert not module.training
    assert not module.training
    with eval_mode(lambda ids, lengths: ids):  # any engine: nothing to switch
        pass


def test_device_of_modules_and_other_engines():
    assert device_of(nn.Linear(2, 2)) == torch.device("cpu")
    assert device_of(nn.Identity()) == torch.device("cpu")  # no tensors
    assert device_of(lambda ids, lengths: ids) == torch.device("cpu")
