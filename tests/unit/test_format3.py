"""Model directories written by the release before the fitted state left the settings (format version 3,
tests/fixtures/format3) still load, and answer exactly as that release did."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqclf import TextClassifier

FIXTURES = Path(__file__).parent.parent / "fixtures" / "format3"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
NAMES = sorted(EXPECTED["answers"])


def _close(answer: dict, expected: dict) -> bool:
    same_keys = {k: v for k, v in answer.items() if k != "probabilities"} == {
        k: v for k, v in expected.items() if k != "probabilities"}
    return same_keys and list(answer["probabilities"]) == list(expected["probabilities"]) and all(
        answer["probabilities"][c] == pytest.approx(p, abs=1e-6) for c, p in expected["probabilities"].items())


@pytest.mark.parametrize("name", NAMES)
def test_a_format_3_directory_answers_as_the_release_that_wrote_it(name):
    answers = TextClassifier.load(FIXTURES / name, "torch").predict_top(EXPECTED["texts"])  # the release ran PyTorch
    assert all(_close(a, e) for a, e in zip(answers, EXPECTED["answers"][name], strict=True)), answers


@pytest.mark.parametrize("name", NAMES)
def test_a_format_3_directory_saved_again_answers_the_same(name, tmp_path):
    resaved = TextClassifier.load(FIXTURES / name).save(tmp_path / name)
    answers = TextClassifier.load(resaved, "torch").predict_top(EXPECTED["texts"])
    assert all(_close(a, e) for a, e in zip(answers, EXPECTED["answers"][name], strict=True)), answers
