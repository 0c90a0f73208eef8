import pytest

from seqclf import ModelDirError, TextClassifier
from seqclf.errors import ConfigError
from seqclf.api import BackendConfig


def test_a_graph_file_that_is_not_there_says_how_to_make_one(model_dir, tmp_path):
    with pytest.raises(ModelDirError, match="ONNX file not found.*seqclf export"):
        TextClassifier.load(model_dir, backend="onnx", onnx_file=tmp_path / "missing.onnx").engine


@pytest.mark.parametrize("settings, field", [(("tensorflow",), "backend"), (("torch", "int4"), "quantize"),
                                             (("torch", None, "model.onnx"), "onnx")])
def test_bad_backend_settings_name_their_field(settings, field):
    with pytest.raises(ConfigError) as caught:
        BackendConfig(*settings)
    assert caught.value.field == field
