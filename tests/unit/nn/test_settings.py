"""Each choice list of ModelConfig is implemented exactly by its registry; the settings need no PyTorch."""
import subprocess
import sys

from seqclf.nn.combination import COMBINATIONS
from seqclf.nn.encoders import ENCODERS, RECURRENT_CELLS
from seqclf.nn.pooling import POOLINGS
from seqclf.nn.settings import COMBINATION_NAMES, ENCODER_NAMES, POOLING_NAMES, RECURRENT_NAMES


def test_every_choice_has_exactly_one_implementation():
    assert tuple(ENCODERS) == ENCODER_NAMES
    assert tuple(RECURRENT_CELLS) == RECURRENT_NAMES
    assert tuple(POOLINGS) == POOLING_NAMES
    assert tuple(COMBINATIONS) == tuple(COMBINATION_NAMES)


def test_settings_and_the_config_file_never_import_pytorch():
    script = ("import sys; from seqclf.config import Config; Config.from_dict(Config().to_dict()); "
              "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
