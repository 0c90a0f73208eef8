"""Shared test settings and helpers."""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys

import numpy as np
import pytest

from seqclf import TextClassifier
from seqclf.data.demo import demo_corpus
from seqclf.deploy.onnx_export import PARITY_TOLERANCE
from seqclf.data.readers import Dataset

# Small and quick: enough to exercise every stage, not to be accurate. Its epochs last milliseconds, so
# a checkpoint (when a directory for them is given) is written after every one, not once 30 s have passed.
TINY = dict(max_len=12, embed_dim=16, hidden_dim=12, epochs=2, batch_size=32, bidirectional=False, pooling="last",
            checkpoint_seconds=0.0)
# The same as flags of `seqclf train`.
TINY_FLAGS = ["--epochs", "2", "--embed-dim", "16", "--hidden-dim", "12", "--max-len", "12", "--no-bidirectional",
              "--checkpoint-seconds", "0"]


CHROMIUM = os.environ.get("SEQCLF_CHROMIUM", "/usr/bin/chromium")


def browser_required() -> None:
    """On CI a missing browser is a failure; elsewhere it skips, saying how to get one."""
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        pytest.fail(f"no browser at {CHROMIUM}: .ci/run installs Debian's chromium")
    pytest.skip(f"no browser at {CHROMIUM} (apt-get install -y chromium)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BUSY_MACHINE_NOTE = "threads: "  # how the line about other processes' busy cores starts (console.threads_text)


def seqclf(*args, stdin: str | bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The `seqclf` command in a subprocess, as a user runs it. `stdin` is text (sent as UTF-8) or bytes;
    stdout and stderr come back as text, decoded from UTF-8 with no line endings translated. The line a
    command writes when other processes keep cores busy is taken out of stderr: the tests run beside other
    processes, and what they check is the rest (the line itself: `test_a_busy_machine_is_said_once`)."""
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    result = subprocess.run([sys.executable, "-m", "seqclf", *map(str, args)], capture_output=True, input=data,
                            timeout=timeout)
    result.stdout = result.stdout.decode("utf-8")
    result.stderr = "".join(line for line in result.stderr.decode("utf-8").splitlines(keepends=True)
                            if not line.startswith(BUSY_MACHINE_NOTE))
    return result


def tiny_corpus(n: int = 300, seed: int = 7) -> tuple[list[str], list[str]]:
    """Short movie remarks in 3 classes (the demo's generator): texts, labels."""
    return demo_corpus(n, seed=seed)


def train_tiny(texts: list[str], labels: list[str], **settings) -> TextClassifier:
    """A TINY model (settings override TINY's), trained in well under a second."""
    return TextClassifier(**{**TINY, **settings}).fit(texts, labels)


def assert_same_probabilities(loaded, original, texts: list[str]) -> None:
    """`loaded` (read back from disk, on the CPU) gives `original`'s probabilities: its PyTorch model bitwise
    when `original` runs on the CPU too, on a GPU within the rounding of cuDNN's kernels, which use
    TensorFloat-32 by default (differences up to 4e-5 were seen on an H200); its default engine (ONNX
    Runtime, when installed) within the export's parity tolerance."""
    expected = original.predict_proba(texts)
    np.testing.assert_allclose(loaded.predict_proba(texts), expected, atol=PARITY_TOLERANCE, rtol=0)
    got = TextClassifier.load(loaded.directory, "torch").predict_proba(texts) if loaded.directory else loaded.predict_proba(texts)
    if next(original.model.parameters()).device.type == "cpu":
        assert np.array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, atol=1e-4)


SECOND_QUESTION = "two-questions"  # the label of a text holding a second question


def question_sentence_pairs(questions: Dataset, sentences: Dataset, seed: int,
                            second_share: float = 0.3) -> tuple[list[str], list[list[str]]]:
    """Real multi-label texts: each TREC question followed by a random SST-2 sentence, labelled {question type,
    sentiment}; for `second_share` of them a second question of the same type is appended, with the third
    label SECOND_QUESTION. One text per question, in the questions' order."""
    rng = random.Random(seed)
    by_type: dict[str, list[str]] = {}
    for question, kind in zip(questions.texts, questions.labels):
        by_type.setdefault(kind, []).append(question)
    texts, labels = [], []
    for question, kind in zip(questions.texts, questions.labels):
        sentence = rng.randrange(len(sentences))
        text, label = f"{question} {sentences.texts[sentence]}", [kind, sentences.labels[sentence]]
        if rng.random() < second_share:
            text += " " + rng.choice(by_type[kind])
            label.append(SECOND_QUESTION)
        texts.append(text)
        labels.append(label)
    return texts, labels


TOPICS = {"sport": ["goal", "match", "team", "coach"], "money": ["bank", "price", "stock", "loan"],
          "food": ["pizza", "bread", "soup", "cheese"]}
FILLER = ["the", "a", "and", "it", "was", "then", "so", "we", "they", "there"]


def topic_texts(n: int, seed: int, filler: tuple[int, int] = (3, 12)) -> tuple[list[str], list[list[str]]]:
    """Texts of filler words with two words of each of their topics (0-3 topics) at random places."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        topics = sorted(rng.choice(list(TOPICS), size=rng.integers(0, 4), replace=False).tolist())
        words = [str(w) for w in rng.choice(FILLER, size=rng.integers(*filler))]
        for topic in topics:
            for word in rng.choice(TOPICS[topic], size=2):
                words.insert(int(rng.integers(0, len(words) + 1)), str(word))
        texts.append(" ".join(words))
        labels.append(topics)
    return texts, labels
