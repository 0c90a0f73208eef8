"""Each choice list of TrainConfig is implemented exactly by its registry."""
from seqclf.training.distributed import AUTOCAST_DTYPES
from seqclf.training.loss import CLASS_WEIGHTS
from seqclf.training.settings import CLASS_WEIGHT_NAMES, PRECISIONS


def test_every_choice_has_exactly_one_implementation():
    assert tuple(AUTOCAST_DTYPES) == PRECISIONS
    assert tuple(CLASS_WEIGHTS) == CLASS_WEIGHT_NAMES
