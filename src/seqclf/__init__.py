"""seqclf: sequence classification in PyTorch whose whole pipeline can be seen, stage by stage."""
from seqclf.api import NotFittedError, TextClassifier
from seqclf.config import Config
from seqclf.errors import ConfigError, DataError, ModelDirError, SeqclfError
from seqclf.predictor import Predictor
from seqclf.version import __version__

__all__ = ["TextClassifier", "Predictor", "Config", "SeqclfError", "DataError", "ConfigError", "ModelDirError",
           "NotFittedError", "__version__"]
