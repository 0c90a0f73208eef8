"""A checked model directory's weights, read into a PyTorch model only when one is needed, and checked
against the model its settings and fitted state describe (names, shapes, dtypes)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seqclf.errors import ConfigError, ModelDirError
from seqclf.fitted_state import FittedState
from seqclf.nn.settings import ModelConfig

if TYPE_CHECKING:
    import torch

    from seqclf.nn.classifier import Classifier


@dataclass(frozen=True)
class WeightsFile:
    """A checked directory's model.safetensors, read into a model only when one is needed."""

    path: Path
    configs: tuple[ModelConfig, ...]  # each sequence model's settings
    ngram_evidence: bool
    fitted: FittedState
    config_file: Path  # where a model that cannot be built from `config` and `fitted` was described

    def load(self) -> Classifier:
        """The model with these weights (PyTorch is imported here); a mismatch with the config is an error."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from seqclf.nn.ensemble import build_classifier

        try:
            model = build_classifier(self.configs, self.ngram_evidence, self.fitted)
        except ConfigError as exc:
            raise ModelDirError(exc.problem, path=self.config_file, field=exc.field) from None
        try:
            weights = load_file(str(self.path))
        except (SafetensorError, OSError) as exc:
            raise ModelDirError(f"cannot read the weights: {exc}", path=self.path) from None
        _check_weights(weights, model, self.path)
        model.load_state_dict(weights)
        return model.eval()


def _check_weights(weights: dict[str, torch.Tensor], model: Classifier, path: Path) -> None:
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ModelDirError(f"weights do not match the config: missing {missing[:3]}, unexpected {unexpected[:3]}",
                            path=path, hint="config.json and model.safetensors come from different models")
    for name, tensor in expected.items():
        if weights[name].shape != tensor.shape:
            raise ModelDirError(f"shape {tuple(weights[name].shape)} but the config implies {tuple(tensor.shape)}",
                                path=path, field=name, hint="config.json and model.safetensors do not match")
        if weights[name].dtype != tensor.dtype:
            raise ModelDirError(f"dtype {weights[name].dtype}, expected {tensor.dtype}", path=path, field=name)
