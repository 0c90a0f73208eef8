"""Default settings on real data (../shared/data), and the demo's promises."""
import numpy as np

from seqclf import TextClassifier
from seqclf.config import Config, load_preset
from seqclf.data.demo import demo_corpus
from seqclf.data.readers import read_dataset
from seqclf.report_text import calibration_text


def test_sst2_with_default_settings(sst2, sst2_default_model):
    clf, test = sst2_default_model, sst2["test"]
    accuracy = clf.evaluate(test.texts, test.labels)["accuracy"]
    print(f"SST-2 test accuracy {accuracy:.4f} (best epoch {clf.history.best_epoch})")
    assert accuracy >= 0.78


def test_sst2_temperature_scaling_lowers_the_test_calibration_error(sst2, sst2_default_model):
    """The temperature is fitted on dev; on test, the calibration error must not rise and the accuracy not move."""
    clf, test = sst2_default_model, sst2["test"]
    model = clf.model
    calibrated = clf.evaluate(test.texts, test.labels)
    fitted, model.temperature = model.temperature, 1.0
    try:
        raw = clf.evaluate(test.texts, test.labels)
    finally:
        model.temperature = fitted
    before = raw["calibration"]["expected_calibration_error"]
    after = calibrated["calibration"]["expected_calibration_error"]
    print(f"SST-2 temperature {fitted:.3f} ({calibration_text(clf.calibration)}); test ECE {before:.4f} -> {after:.4f}, "
          f"accuracy {raw['accuracy']:.4f} -> {calibrated['accuracy']:.4f}")
    assert clf.calibration.kept and fitted == clf.calibration.temperature
    assert after <= before and calibrated["accuracy"] == raw["accuracy"]
    assert calibrated["confusion_matrix"] == raw["confusion_matrix"]


def test_trec_with_default_settings(shared_data):
    train, test = (read_dataset(shared_data / "trec" / f"{s}.tsv") for s in ("train", "test"))
    clf = TextClassifier().fit(train.texts, train.labels)  # 10% of train held out for validation
    accuracy = clf.evaluate(test.texts, test.labels)["accuracy"]
    print(f"TREC test accuracy {accuracy:.4f} (best epoch {clf.history.best_epoch})")
    assert accuracy >= 0.86


def test_demo_setup_learns_the_demo_corpus():
    """What `seqclf demo` runs: the classic preset, 5 epochs, 20% held out."""
    texts, labels = demo_corpus()
    assert len(texts) == 1000 and set(labels) == {"positive", "negative", "neutral"}
    assert demo_corpus() == (texts, labels)  # deterministic
    clf = TextClassifier(Config.from_dict(load_preset("classic")), valid_fraction=0.2).fit(texts, labels)
    losses = [r.train_loss for r in clf.history.records]
    assert len(losses) == 5 and all(np.diff(losses) < 0), losses
    assert clf.history.records[-1].valid_accuracy >= 0.85
    assert clf.data_flow(texts).rows[1].shape == [1000, 10]
