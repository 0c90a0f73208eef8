import torch

from seqclf.api import BackendConfig

from helpers import train_tiny


def test_torch_int8_leaves_the_float_model_alone(demo_data):
    clf = train_tiny(*demo_data)
    before = {name: t.clone() for name, t in clf.model.state_dict().items()}
    clf.use_backend(BackendConfig("torch", "int8"))
    clf.predict(demo_data[0][:5])
    assert all(torch.equal(before[name], t) for name, t in clf.model.state_dict().items())
    assert isinstance(clf.model.head, torch.nn.Linear)
