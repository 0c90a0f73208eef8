from seqclf.training.history import EpochRecord, History


def record(epoch, train_loss, valid_loss=None, valid_accuracy=None):
    return EpochRecord(epoch, train_loss, 0.5, valid_loss, valid_accuracy, 1.0, 1000.0, 1e-3)


def test_best_epoch_by_validation_accuracy_then_loss():
    history = History([record(1, 1.0, 0.9, 0.6), record(2, 0.8, 0.7, 0.7), record(3, 0.5, 0.6, 0.7), record(4, 0.4, 0.9, 0.65)])
    assert history.best_epoch == 3
    assert History([record(1, 1.0), record(2, 0.5)]).best_epoch == 2
    assert History().best_epoch is None


def test_jsonl_round_trip_and_ascii_chart(tmp_path):
    history = History([record(1, 1.0, 0.9, 0.6), record(2, 0.5, 0.7, 0.7), record(3, 0.2, 0.6, 0.8)])
    assert History.from_jsonl(history.to_jsonl()) == history
    chart = history.ascii_chart(height=6)
    lines = chart.splitlines()
    assert "* train" in lines[0] and "o validation" in lines[0]
    assert lines[1].startswith(" 1.0000 |")  # the highest loss on the top row
    assert "*" in lines[1] and "*" in lines[6]  # train loss falls from the top row to the bottom row
    history.save_png(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
