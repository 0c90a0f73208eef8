"""Every command that writes, on a real full disk (a small tmpfs): one line naming the file and the cause,
a sentence true for the command, exit 1, nothing half-written and no directory left behind."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqclf import TextClassifier
from seqclf.data.demo import demo_corpus

from helpers import TINY_FLAGS, seqclf

FULL = "No space left on device"


class Disk:
    """A 4 MiB tmpfs at `root`; `fill()` leaves no free block."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        with open(self.filler, "ab", buffering=0) as handle:
            try:
                while handle.write(b"\0" * 4096):
                    pass
            except OSError:  # full
                pass

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)

    def entries(self) -> list[str]:
        """Every path on the disk but the filler, relative to it."""
        return sorted(str(path.relative_to(self.root)) for path in self.root.rglob("*") if path != self.filler)


@pytest.fixture
def disk(tmp_path):
    root = tmp_path / "disk"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs (the full-disk tests need root): {mounted.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); run as root, as CI does")
    try:
        yield Disk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=True)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    texts, labels = demo_corpus(300, seed=21)
    (folder / "train.tsv").write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)))
    return folder / "train.tsv"


def failed_write(result, path: Path) -> str:
    """The one error line of a command that could not write `path`."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: cannot write {path}: ") and FULL in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("checkpoints", [[], ["--checkpoint-every", "2"]], ids=["each epoch", "every 2 steps"])
def test_a_new_model_directory_that_does_not_fit_leaves_nothing(disk, data, checkpoints):
    disk.fill()
    out = disk.root / "runs" / "model"
    line = failed_write(seqclf("train", data, "--out", out, "--no-cache", *TINY_FLAGS, *checkpoints),
                        out / "checkpoint.safetensors")
    assert line.endswith("no file was written")  # and nothing about a model or a checkpoint that is not there
    assert disk.entries() == []  # no --out, no parent made for it, no lock, no temporary file


def test_training_over_a_model_on_a_full_disk_keeps_the_model(disk, data):
    out = disk.root / "model"
    assert seqclf("train", data, "--out", out, "--no-cache", *TINY_FLAGS).returncode == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    disk.fill()
    line = failed_write(seqclf("train", data, "--out", out, "--no-cache", *TINY_FLAGS, "--seed", "2"),
                        out / "checkpoint.safetensors")
    assert f"the model in {out} is as it was" in line
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert disk.entries() == ["model", *sorted(f"model/{name}" for name in before)]
    texts, _ = demo_corpus(20, seed=3)
    TextClassifier.load(out).predict(texts)  # checksums and all


def test_evaluate_writes_its_report_whole_or_not_at_all(disk, data, model_dir):
    disk.fill()
    report = disk.root / "report"
    line = failed_write(seqclf("evaluate", model_dir, data, "--out", report), report / "report.json")
    assert line.endswith(f"none of the files was written; {report} was not created")
    assert disk.entries() == []
    (report / "notes").mkdir(parents=True)
    line = failed_write(seqclf("evaluate", model_dir, data, "--out", report), report / "report.json")
    assert line.endswith("none of the files was written") and disk.entries() == ["report", "report/notes"]


def test_export_leaves_no_partial_graph(disk, model_dir):
    disk.fill()
    graph = disk.root / "graphs" / "model.onnx"
    line = failed_write(seqclf("export", model_dir, "--onnx", graph), graph)
    assert line.endswith("no file was written") and disk.entries() == []


def test_a_cache_on_a_full_disk_is_a_warning_and_leaves_no_entry(disk, data, tmp_path):
    disk.fill()
    result = seqclf("train", data, "--out", tmp_path / "model", "--cache-dir", disk.root / "cache", *TINY_FLAGS)
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1 and "could not write the corpus cache" in warning[0] and FULL in warning[0]
    assert disk.entries() in ([], ["cache"])  # the cache's own folder, made empty, may stay: it is the cache


def test_predictions_to_a_file_on_a_full_disk_say_so(disk, data, model_dir):
    disk.fill()
    with open(disk.root / "predictions.jsonl", "w") as output:
        result = subprocess.run([sys.executable, "-m", "seqclf", "predict", str(model_dir), "--input", str(data)],
                                stdout=output, stderr=subprocess.PIPE, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    # the last line says it (before it: perhaps the graph written on first use, a note of a busy machine)
    assert result.stderr.strip().splitlines()[-1] == f"error: cannot write the standard output: {FULL}"
    assert result.stderr.count("error: ") == 1


def test_a_failed_save_after_training_says_the_checkpoint_is_kept_for_resume(data, tmp_path, monkeypatch):
    """The model directory's write fails after the last checkpoint was written (injected: on a real disk the
    checkpoint, written first, is the larger file)."""
    from seqclf import artifacts, model_files
    from seqclf.config import Config
    from seqclf.errors import WriteError
    from seqclf.runs import train_to_directory

    writers = artifacts._writers

    def full_weights(parts):
        def refuse(path):
            raise OSError(28, FULL)

        return {**writers(parts), model_files.WEIGHTS: refuse}

    monkeypatch.setattr(artifacts, "_writers", full_weights)
    out = tmp_path / "model"
    config = Config.from_dict({"epochs": 1, "embed_dim": 8, "hidden_dim": 8, "max_len": 8, "bidirectional": False,
                               "checkpoint_seconds": 0})
    with pytest.raises(WriteError) as failure:
        train_to_directory(config, data, out, cache=False)
    message = str(failure.value)
    assert message.startswith(f"cannot write {out / 'model.safetensors'}: {FULL}; {out} is as it was")
    assert message.endswith("keeps the last checkpoint written: make room, then run the same command with --resume "
                            "to continue from it")
    assert sorted(path.name for path in out.iterdir()) == ["checkpoint.safetensors"]
    monkeypatch.setattr(artifacts, "_writers", writers)
    run = train_to_directory(config, data, out, cache=False, resume=True)
    assert json.loads((run.directory / "config.json").read_text())["format_version"] == model_files.FORMAT_VERSION


def test_a_search_on_a_full_disk_leaves_no_study_behind(disk, data):
    disk.fill()
    out = disk.root / "tuned"
    result = seqclf("tune", data, "--valid", data, "--out", out, "--trials", "1", "--ensemble", "1", "--no-cache")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().endswith(f"cannot write {out / 'study.db'}: database or disk is full; no study was "
                                          "written"), result.stderr
    assert disk.entries() == []
