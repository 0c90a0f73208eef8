"""seqclf: sequence classification in PyTorch whose whole pipeline can be seen, stage by stage."""
from seqclf.api import NotFittedError, TextClassifier
from seqclf.config import Config
from seqclf.errors import ConfigError, DataError, ModelDirError, SeqclfError

__version__ = "0.1.0"
__all__ = ["TextClassifier", "Config", "SeqclfError", "DataError", "ConfigError", "ModelDirError",
           "NotFittedError", "__version__"]
