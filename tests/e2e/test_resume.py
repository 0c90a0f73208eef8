"""A training run killed with SIGKILL mid-epoch and resumed ends exactly as an uninterrupted run;
resuming with other settings, or training over a checkpoint without --resume, is refused; a run stopped
with Ctrl-C or SIGTERM says in one line what it keeps and the command that continues it."""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from seqclf.data.demo import demo_corpus
from seqclf.model_files import CHECKPOINT
from seqclf.training.checkpoint import has_checkpoint, load_checkpoint

# One thread: bit-identical sums. With two, PyTorch's parallel sums were seen to round differently when a core
# was contended (the polling below is such a contender), so two runs could differ in the last bits.
SETTINGS = ["--epochs", "3", "--embed-dim", "32", "--hidden-dim", "16", "--checkpoint-every", "3", "--checkpoint-seconds", "0",
            "--word-dropout", "0.1", "--lr-schedule", "plateau", "--no-cache", "--threads", "1"]


def command(data, out, *extra):
    return [sys.executable, "-m", "seqclf", "train", str(data), "--out", str(out), *SETTINGS, *extra]


def comparable(metrics_file):
    """Each epoch's metrics without its wall-clock fields."""
    rows = [json.loads(line) for line in metrics_file.read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in ("seconds", "tokens_per_second")} for row in rows]


def progress_of(out, snapshot):
    """The progress in the run's checkpoint, read from a copy (None if the run removed it meanwhile). The run
    replaces the file while the test polls, and the safetensors reader opens the path twice (the header,
    then the tensors' storage), so reading it in place can meet two versions."""
    try:
        shutil.copyfile(out / CHECKPOINT, snapshot / CHECKPOINT)  # one open: one version
    except FileNotFoundError:
        return None
    return load_checkpoint(snapshot)["progress"]


def signal_mid_epoch(process, out, epoch, signum):
    """Send `signum` once the run's checkpoint is inside `epoch`; True if that happened."""
    deadline = time.monotonic() + 240
    snapshot = out.parent / "snapshot"
    snapshot.mkdir(exist_ok=True)
    while process.poll() is None and time.monotonic() < deadline:
        if has_checkpoint(out):
            progress = progress_of(out, snapshot)
            if progress and progress["epoch"] == epoch and progress["step"] > 0:
                process.send_signal(signum)
                return True
        time.sleep(0.002)
    return False


def test_sigkill_mid_epoch_then_resume_gives_identical_weights_and_metrics(tmp_path):
    texts, labels = demo_corpus(3000, seed=5)
    data = tmp_path / "train.tsv"
    data.write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)))
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    subprocess.run(command(data, reference), check=True, capture_output=True, timeout=300)

    process = subprocess.Popen(command(data, interrupted), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert signal_mid_epoch(process, interrupted, 2, signal.SIGKILL), "the run ended before it could be killed mid-epoch"
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (interrupted / "config.json").exists()  # no model yet, only the checkpoint

    refused = subprocess.run(command(data, interrupted), capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert "unfinished training run" in refused.stderr and "--resume" in refused.stderr
    assert "Traceback" not in refused.stderr
    changed = subprocess.run([*command(data, interrupted, "--resume"), "--lr", "0.1"], capture_output=True,
                             text=True, timeout=300)
    assert changed.returncode == 2
    assert "other settings: lr" in changed.stderr and "Traceback" not in changed.stderr

    resumed = subprocess.run(command(data, interrupted, "--resume"), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from the checkpoint: epoch 2" in resumed.stdout

    ours, theirs = load_file(str(interrupted / "model.safetensors")), load_file(str(reference / "model.safetensors"))
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[name], theirs[name]) for name in ours)
    assert comparable(interrupted / "metrics.jsonl") == comparable(reference / "metrics.jsonl")
    assert not has_checkpoint(interrupted)  # the finished model replaced it


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_says_what_is_kept_and_the_command_it_prints_resumes_it(tmp_path, signum):
    texts, labels = demo_corpus(3000, seed=5)
    data = tmp_path / "train.tsv"
    data.write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)))
    out = tmp_path / "run"
    process = subprocess.Popen(command(data, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert signal_mid_epoch(process, out, 2, signum), "the run ended before it could be stopped mid-epoch"
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum and "Traceback" not in stderr
    said = stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"interrupted at epoch 2, step \d+: the checkpoint of epoch 2 at step \d+ is kept in "
                        + re.escape(str(out)) + r"; continue with: seqclf train .* --resume", said), said
    assert has_checkpoint(out)
    if signum != signal.SIGINT:
        return
    again = shlex.split(said.split("continue with: ")[1])
    resumed = subprocess.run([sys.executable, "-m", "seqclf", *again[1:]], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from the checkpoint: epoch 2" in resumed.stdout
    assert re.search(r"^\s+1 \*", resumed.stdout, re.MULTILINE)  # epoch 1 keeps its mark: the best so far
