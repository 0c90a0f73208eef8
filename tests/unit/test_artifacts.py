import json
import shutil

import pytest
from safetensors.torch import load_file, save_file

from seqclf import ModelDirError, TextClassifier, artifacts
from seqclf.artifacts import checksum
from seqclf.model_files import CHECKSUMMED, CONFIG, LABELS, METRICS, TOKENIZER, WEIGHTS
from seqclf.errors import SeqclfWarning

from helpers import TINY, tiny_corpus, train_tiny


@pytest.fixture(scope="module")
def tiny_texts():
    return tiny_corpus()


@pytest.fixture
def copy(model_dir, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    return target


def test_directory_holds_the_documented_files(model_dir):
    names = {p.name for p in model_dir.iterdir()}
    assert {CONFIG, "fitted.json", TOKENIZER, LABELS, WEIGHTS, METRICS, "training_curve.png"} <= names
    config = json.loads((model_dir / CONFIG).read_text())
    assert config["format_version"] == 4
    assert set(config["checksums"]) == {"tokenizer.json", "labels.json", "model.safetensors", "fitted.json"}
    assert config["tokenizer"]["max_len"] == 12
    classes = json.loads((model_dir / LABELS).read_text())
    assert config["id2label"] == {str(i): name for i, name in enumerate(classes)}  # as Hugging Face configs have it
    assert config["label2id"] == {name: i for i, name in enumerate(classes)}
    fitted = json.loads((model_dir / "fitted.json").read_text())
    assert (fitted["task"], fitted["max_len"], fitted["num_classes"]) == ("single-label", 12, 3)
    assert fitted["weights_fingerprint"] == TextClassifier.load(model_dir).model.weights_fingerprint()
    assert json.loads((model_dir / LABELS).read_text()) == ["negative", "neutral", "positive"]
    assert len((model_dir / METRICS).read_text().splitlines()) == 2


def test_saving_over_a_model_replaces_its_files_and_keeps_the_users(fitted, copy):
    (copy / "README.txt").write_text("my notes")
    (copy / "notes").mkdir()
    (copy / "notes" / "run.md").write_text("lr 0.002")
    (copy / "model.onnx").write_bytes(b"exported from the previous weights")
    fitted.save(copy)
    assert (copy / "README.txt").read_text() == "my notes" and (copy / "notes" / "run.md").read_text() == "lr 0.002"
    assert not (copy / "model.onnx").exists()  # seqclf's own file, from the weights replaced
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]  # no staging or lock left behind


def test_refuses_to_replace_a_directory_that_is_not_a_model(fitted, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("precious")
    with pytest.raises(ModelDirError, match="not a seqclf model directory"):
        fitted.save(tmp_path / "docs")
    assert (tmp_path / "docs" / "thesis.tex").read_text() == "precious"


def test_failed_save_leaves_the_previous_model(fitted, copy, monkeypatch):
    before = (copy / WEIGHTS).read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("safetensors.torch.save_file", broken)  # as artifacts imports it when writing
    with pytest.raises(OSError):
        fitted.save(copy)
    assert (copy / WEIGHTS).read_bytes() == before
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / WEIGHTS).unlink(), "missing model.safetensors"),
        (lambda d: (d / CONFIG).write_text("{not json"), r"config\.json: cannot read JSON"),
        (lambda d: _edit_config(d, format_version=99), "unsupported format_version 99"),
        (lambda d: _edit_config(d, model={"hidden_dim": 5}), r"field 'encoder\.layers\.0\.0\.weight_ih_l0': shape"),
        (lambda d: _edit_config(d, model={"pooling": "sum"}), r"config\.json: field 'pooling': unknown value"),
        (lambda d: (d / LABELS).write_text('["a", "b"]'), "labels.json has 2 classes, fitted.json says 3"),
        (lambda d: (d / LABELS).write_text('["a", "a", "b"]'), "two or more distinct class names"),
        (lambda d: (d / WEIGHTS).write_bytes((d / WEIGHTS).read_bytes()[:100]), "cannot read the weights"),
        (lambda d: (d / TOKENIZER).write_text("{}"), "cannot read the tokenizer"),
        (lambda d: _drop_tensor(d, "head.bias"), r"missing \['head\.bias'\]"),
    ],
)
def test_damaged_directories_are_clear_errors(copy, damage, message):
    """Each check behind the checksums: files swapped together with their recorded checksums. The weights are
    read when PyTorch first needs them (ONNX Runtime's engine runs its graph, tied to them by a fingerprint)."""
    damage(copy)
    _record_checksums(copy)
    with pytest.raises(ModelDirError, match=message):
        TextClassifier.load(copy, "torch").predict(["some text"])


def test_label_maps_that_disagree_with_labels_json_are_refused_and_older_directories_need_none(copy):
    config = json.loads((copy / CONFIG).read_text())
    swapped = dict(config, id2label={"0": config["id2label"]["1"], "1": config["id2label"]["0"],
                                     **{k: v for k, v in config["id2label"].items() if k not in ("0", "1")}})
    (copy / CONFIG).write_text(json.dumps(swapped))
    with pytest.raises(ModelDirError, match="field 'id2label': does not name the classes of labels.json"):
        TextClassifier.load(copy)
    for key in ("id2label", "label2id"):
        del config[key]
    (copy / CONFIG).write_text(json.dumps(config))
    assert TextClassifier.load(copy).classes_ == json.loads((copy / LABELS).read_text())


def test_directory_from_nowhere(tmp_path):
    with pytest.raises(ModelDirError, match="model directory not found"):
        TextClassifier.load(tmp_path / "nothing")
    with pytest.raises(ModelDirError, match="missing config.json"):
        TextClassifier.load(tmp_path)


def _edit_config(directory, **changes):
    config = json.loads((directory / CONFIG).read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            config[key].update(value)
        else:
            config[key] = value
    (directory / CONFIG).write_text(json.dumps(config))


def _record_checksums(directory):
    if (directory / CONFIG).is_file() and all((directory / name).is_file() for name in CHECKSUMMED):
        try:
            _edit_config(directory, checksums={name: checksum(directory / name) for name in CHECKSUMMED})
        except (ValueError, KeyError):
            pass  # config.json itself is the damage


def _drop_tensor(directory, name):
    weights = load_file(str(directory / WEIGHTS))
    del weights[name]
    save_file(weights, str(directory / WEIGHTS))


@pytest.mark.parametrize("name", CHECKSUMMED)
def test_a_changed_file_fails_its_checksum(copy, name):
    data = bytearray((copy / name).read_bytes())
    data[-2] ^= 1  # one bit, anywhere a parser might not notice
    (copy / name).write_bytes(bytes(data))
    with pytest.raises(ModelDirError, match=f"{name}.*checksum mismatch"):
        TextClassifier.load(copy)


def test_missing_checksums_are_an_error(copy):
    config = json.loads((copy / CONFIG).read_text())
    del config["checksums"]
    (copy / CONFIG).write_text(json.dumps(config))
    with pytest.raises(ModelDirError, match="field 'checksums'"):
        TextClassifier.load(copy)


@pytest.mark.parametrize("name, content, mode", [
    ("extra.pkl", b"\x80\x04K\x01.", 0o644),
    ("notes.txt", b"\x80\x04\x95 pickle bytes under an innocent name", 0o644),
    ("weights.pt", b"PK\x03\x04 a zip of pickles", 0o644),
    ("run.sh", b"echo hi", 0o644),
    ("helper", b"#!/bin/sh\necho hi", 0o644),
    ("tool", b"plain bytes", 0o755),
    ("sub/deep.pickle", b"data", 0o644),
])
def test_pickles_and_executables_are_refused(copy, name, content, mode):
    path = copy / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    path.chmod(mode)
    with pytest.raises(ModelDirError, match="refusing to load it"):
        TextClassifier.load(copy)


def test_format_version_1_directories_still_load_and_say_they_cannot_be_checked(copy, fitted):
    config = json.loads((copy / CONFIG).read_text())
    fitted_values = json.loads((copy / "fitted.json").read_text())
    del config["checksums"]
    config.update(format_version=1, task=fitted_values["task"], vocab_size=fitted_values["vocab_size"],
                  num_classes=fitted_values["num_classes"])  # where format 1 kept them, beside the settings
    config["model"].update(temperature=fitted_values["temperature"], thresholds=fitted_values["thresholds"])
    (copy / CONFIG).write_text(json.dumps(config))
    (copy / "fitted.json").unlink()
    with pytest.warns(SeqclfWarning, match="format_version 1 has no checksums, so damage to or edits of"):
        assert TextClassifier.load(copy).classes_ == fitted.classes_


@pytest.mark.parametrize("version", [1, True, 1.0, "1", "3"], ids=repr)
def test_an_edited_format_version_does_not_skip_the_checksums(copy, version):
    config = json.loads((copy / CONFIG).read_text())
    config["format_version"] = version
    (copy / CONFIG).write_text(json.dumps(config))
    labels = json.loads((copy / LABELS).read_text())
    (copy / LABELS).write_text(json.dumps(labels[::-1]))  # swapped labels: every answer would be wrong
    with pytest.raises(ModelDirError, match="checksum mismatch|must list the SHA-256|unsupported format_version"):
        TextClassifier.load(copy)


# -- directories that cannot be clobbered ---------------------------------------------------------


def test_a_symbolic_link_is_followed_and_kept(fitted, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real" / "m")
    saved = fitted.save(tmp_path / "link")
    assert saved == (tmp_path / "real" / "m").resolve() and (saved / WEIGHTS).is_file()
    assert (tmp_path / "link").is_symlink() and (tmp_path / "link" / WEIGHTS).is_file()
    assert fitted.save(tmp_path / "real" / "m") == saved  # the target is an ordinary model directory


def test_no_model_directory_inside_another(fitted, copy):
    with pytest.raises(ModelDirError, match=r"is inside the model directory .*model"):
        fitted.save(copy / "sub")
    with pytest.raises(ModelDirError, match="is a file, not a directory"):
        fitted.save(copy / WEIGHTS / "sub")
    assert not (copy / "sub").exists()


def test_skipped_rows_are_saved_with_the_model(fitted, tmp_path):
    from seqclf.data.readers import BadRow

    rows = [BadRow("d.csv", 3, "empty text", ",b", "text"), BadRow("d.csv", 9, "3 fields, the header has 2", "x,y,z")]
    saved = fitted.save(tmp_path / "m", skipped_rows=rows)
    lines = (saved / "skipped_rows.jsonl").read_text().splitlines()
    assert [BadRow.from_dict(json.loads(line)) for line in lines] == rows
    TextClassifier.load(saved)  # a known file: the directory still loads


@pytest.mark.parametrize("settings", [{}, {"ensemble": 2, "ngram_evidence": True}])
def test_the_weights_fingerprint_read_from_the_file_is_the_models(tiny_texts, settings, tmp_path):
    """ONNX Runtime's engine checks an exported graph against the file's fingerprint, without PyTorch."""
    texts, labels = tiny_texts
    clf = train_tiny(texts, labels, **settings)
    parts = artifacts.load(clf.save(tmp_path / "model"))
    from_file = parts.weights_fingerprint()
    assert isinstance(parts.weights, artifacts.WeightsFile)  # nothing loaded into PyTorch yet
    assert from_file == clf.model.weights_fingerprint() == parts.model.weights_fingerprint()


def test_weights_that_do_not_fit_the_config_fail_when_the_model_is_first_used(copy):
    parts = artifacts.load(copy)
    assert parts.model is parts.model  # read once
    config = json.loads((copy / CONFIG).read_text())
    config["model"]["hidden_dim"] += 1
    (copy / CONFIG).write_text(json.dumps(config))
    with pytest.raises(ModelDirError, match="shape"):
        artifacts.load(copy).model


# -- settings apart from what training learned ------------------------------------------------------


def test_training_leaves_the_settings_as_given_and_records_what_it_resolved_apart(demo_data, tmp_path):
    texts, labels = demo_data
    clf = TextClassifier(**{**TINY, "max_len": "auto", "calibrate": True})
    given = clf.config
    clf.fit(texts, labels)
    assert clf.config == given and clf.config.tokenizer.max_len == "auto"
    assert clf.fitted_state.max_len == clf.tokenizer.max_len > 0
    directory = clf.save(tmp_path / "model")
    config, fitted = (json.loads((directory / name).read_text()) for name in (CONFIG, "fitted.json"))
    assert config["tokenizer"]["max_len"] == "auto" and fitted["max_len"] == clf.fitted_state.max_len
    assert "temperature" not in config["model"] and fitted["temperature"] == clf.fitted_state.temperature
    loaded = TextClassifier.load(directory)
    assert loaded.config == given and loaded.fitted_state == clf.fitted_state.with_values(
        weights_fingerprint=fitted["weights_fingerprint"])


@pytest.mark.parametrize("values, field", [
    ({"task": "several"}, "task"), ({"max_len": "auto"}, "max_len"), ({"temperature": 0}, "temperature"),
    ({"thresholds": [0.5, 0.5, 0.5]}, "thresholds"), ({"ngram_weight": 2.0}, "ngram_weight"),
    ({"learned": 1}, "learned"), ({"task": "multi-label"}, "thresholds"),
], ids=str)
def test_a_damaged_fitted_json_is_an_error_naming_its_field(copy, values, field):
    path = copy / "fitted.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **values}))
    config = json.loads((copy / CONFIG).read_text())
    config["checksums"]["fitted.json"] = checksum(path)  # edited as if saved so: only the content is wrong
    (copy / CONFIG).write_text(json.dumps(config))
    with pytest.raises(ModelDirError, match=rf"fitted\.json: field '{field}'"):
        TextClassifier.load(copy)
