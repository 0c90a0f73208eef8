"""Keep the command's output ours while PyTorch's exporter and ONNX Runtime's quantizer run."""
from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """The exporter and the quantizer narrate (progress lines, advice, warnings about optional
    packages) on stdout, in warnings and to a logger: silence all three inside the block."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
