"""seqclf: sequence classification in PyTorch whose whole pipeline can be seen, stage by stage.

Nothing here imports PyTorch, so that a process that only predicts with ONNX Runtime, or only reads
settings, never does; `Config` is imported when first used (PEP 562).
"""
from __future__ import annotations

import importlib

from seqclf import api  # the model object: NumPy, not PyTorch
from seqclf.errors import ConfigError, DataError, ModelDirError, SeqclfError
from seqclf.version import __version__

_LAZY = {"TextClassifier": "seqclf.api", "NotFittedError": "seqclf.api", "Config": "seqclf.config"}

__all__ = ["TextClassifier", "Config", "SeqclfError", "DataError", "ConfigError", "ModelDirError", "NotFittedError",
           "__version__"]


def _python_report() -> object:
    """The report `TextClassifier.fit` shows (made when a fit starts: it needs PyTorch, loaded by then)."""
    from seqclf.report import python_report

    return python_report()


api.progress_report = _python_report  # the faces, above the API, plug in the report it shows


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'seqclf' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # once imported, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
