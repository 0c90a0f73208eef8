"""Multi-label and long texts as a user meets them: `seqclf train` on label-set files, `predict`,
`evaluate`, `trace`, and the web page in Chromium."""
import contextlib
import json

import pytest
from playwright.sync_api import expect

from helpers import CHROMIUM, browser_required, seqclf, topic_texts
from serving import call, start, stop

FLAGS = ["--epochs", "6", "--embed-dim", "24", "--hidden-dim", "24", "--max-len", "16"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The same label sets as a csv with '|' between labels, and as JSONL lists."""
    root = tmp_path_factory.mktemp("multi")
    for name, (texts, labels) in (("train", topic_texts(1500, seed=0)), ("test", topic_texts(200, seed=1))):
        (root / f"{name}.csv").write_text("text,label\n" + "".join(f"{t},{'|'.join(ls)}\n" for t, ls in zip(texts, labels)))
        (root / f"{name}.jsonl").write_text("".join(json.dumps({"text": t, "label": ls}) + "\n"
                                                    for t, ls in zip(texts, labels)))
    return root


@pytest.fixture(scope="module")
def model(files):
    out = files / "model"
    result = seqclf("train", str(files / "train.csv"), "--out", str(out), "--multi-label", "--label-separator", "|",
                    "--test", str(files / "test.csv"), *FLAGS)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_train_on_a_csv_of_label_sets(model):
    out, stdout = model
    assert "3 labels (multi-label): food, money, sport" in stdout
    assert "multi-label thresholds (per-label, chosen on the validation data): food" in stdout
    assert "5 sigmoid" in stdout and "5 thresholds" in stdout
    micro_f1 = float(stdout.split("test: micro-F1 ")[1].split(",")[0])
    assert micro_f1 >= 0.95
    assert json.loads((out / "fitted.json").read_text())["task"] == "multi-label"


def test_label_lists_in_jsonl_are_detected_and_said(files, tmp_path):
    result = seqclf("train", str(files / "train.jsonl"), "--out", str(tmp_path / "m"), *FLAGS, "--epochs", "1")
    assert result.returncode == 0, result.stderr
    assert "train.jsonl:1 gives a list of" in result.stdout and "pass --multi-label to say so" in result.stdout


def test_predict_gives_the_label_set_and_every_probability(model):
    out, _ = model
    result = seqclf("predict", str(out), "the coach and the team", "the pizza and the bank and the soup and stock")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["labels"] == ["sport"] and set(second["labels"]) == {"food", "money"}
    assert set(first["probabilities"]) == {"food", "money", "sport"} and "do not sum to 1" in first["note"]
    assert "do not sum to 1" in result.stderr
    tsv = seqclf("predict", str(out), "the coach and the team", "--output-format", "tsv")
    assert tsv.stdout.startswith("sport\tsport=")


def test_predict_counts_truncated_texts(model):
    out, _ = model
    result = seqclf("predict", str(out), "the coach " + "and the " * 20, "short text")
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["truncated"] is True and "truncated" not in second
    assert "1 longer than max_len, truncated" in result.stderr
    # the same model told to read long texts in windows (it was trained with truncation)
    chunked = seqclf("predict", str(out), "the coach " + "and the " * 20, "--long-text", "chunk", "--window-stride", "16")
    assert chunked.returncode == 0, chunked.stderr
    assert json.loads(chunked.stdout)["windows"] == 3 and "long texts: long_text chunk, window_stride 16" in chunked.stderr
    bad = seqclf("predict", str(out), "text", "--long-text", "all")
    assert bad.returncode == 2 and "field 'long_text': unknown value 'all'" in bad.stderr


def test_evaluate_reports_multi_label_figures(model, files):
    out, _ = model
    result = seqclf("evaluate", str(out), str(files / "test.jsonl"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"micro_f1", "macro_f1", "samples_f1", "hamming_loss", "subset_accuracy", "per_label"} <= set(report)
    assert set(report["per_label"]["sport"]) == {"precision", "recall", "f1", "support", "threshold"}
    table = seqclf("evaluate", str(out), str(files / "test.csv"), "--label-separator", "|", "--errors", "2",
                   "--out", str(out.parent / "report"))
    assert table.returncode == 0, table.stderr
    assert "micro-F1" in table.stdout and "threshold" in table.stdout and "most wrong label decisions" in table.stdout
    assert json.loads((out.parent / "report" / "report.json").read_text())["micro_f1"] == report["micro_f1"]


def test_a_bad_label_list_is_one_line_with_file_and_line(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "a b", "label": ["x"]}\n{"text": "c d", "label": [["x"]]}\n')
    result = seqclf("train", str(data), "--out", str(tmp_path / "m"), *FLAGS)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"{data}:2" in result.stderr and "a label in the list is list" in result.stderr


def test_chunked_model_trace_shows_its_windows(files, tmp_path):
    out = tmp_path / "chunk"
    result = seqclf("train", str(files / "train.csv"), "--out", str(out), "--multi-label", "--label-separator", "|",
                    *FLAGS, "--epochs", "1", "--max-len", "8", "--long-text", "chunk")
    assert result.returncode == 0, result.stderr
    assert ("read in windows of 8 (stride 4, mean of their logits); training, validation and prediction read every "
            "window") in result.stdout
    trace = seqclf("trace", str(out), "the coach and the team and then it was so the pizza soup", "--json")
    windows = json.loads(trace.stdout)["windows"]
    assert [(w["start"], w["end"]) for w in windows] == [(0, 8), (4, 12), (5, 13)]
    assert seqclf("export", str(out)).returncode == 0  # the graph classifies windows; its metadata says how
    import onnx

    metadata = {p.key: p.value for p in onnx.load(str(out / "model.onnx")).metadata_props}
    assert json.loads(metadata["seqclf.long_text"]) == {"long_text": "chunk", "window": 8, "stride": 4, "pooling": "mean"}
    text = "the coach and the team and then it was so the pizza soup"
    onnx_answer, torch_answer = (json.loads(seqclf("predict", str(out), text, "--backend", backend).stdout)
                                 for backend in ("onnx", "torch"))
    assert onnx_answer["labels"] == torch_answer["labels"] and onnx_answer["windows"] == 3
    for label, probability in torch_answer["probabilities"].items():
        assert abs(onnx_answer["probabilities"][label] - probability) < 1e-5
    process, port = start(out)
    try:
        with traced_on_the_page(port, "the coach and the team and then it was so the pizza soup", 390) as page:
            expect(page.locator("#windows li")).to_have_count(4)  # three windows and their pooling
            expect(page.locator("#windows li").first).to_contain_text("tokens 1-8:")
            expect(page.locator("#windows .pooled")).to_contain_text("mean of the windows")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        stop(process)


@pytest.fixture(scope="module")
def server(model):
    process, port = start(model[0])
    yield port
    stop(process)


def test_the_http_api_answers_label_sets(server):
    status, answer = call(server, "POST", "/v1/predict", {"texts": ["the coach and the team", "and then so"], "top_k": 2})
    first, second = answer["predictions"]
    assert status == 200 and first["labels"] == ["sport"] and len(first["probabilities"]) == 2 and "label" not in first
    assert second["labels"] == [] and "do not sum to 1" in second["note"]
    model = call(server, "GET", "/v1/model")[1]
    assert model["task"] == "multi-label" and len(model["thresholds"]) == 3
    trace = call(server, "POST", "/v1/trace", {"text": "the coach and the team"})[1]
    assert trace["multi_label"] and trace["labels"] == ["sport"]


def test_the_page_shows_the_labels_over_their_thresholds(server):
    with traced_on_the_page(server, "the pizza and the coach and the team and bread", 1280) as page:
        expect(page.locator("#answer .answer-label")).to_have_text(["sport", "food"])
        expect(page.locator("#answer .probability")).to_have_count(2)
        expect(page.locator("#probabilities li.predicted")).to_have_count(2)
        expect(page.locator("#probabilities .threshold")).to_have_count(3)
        expect(page.locator("#probabilities .independent")).to_contain_text("do not sum to 1")


@contextlib.contextmanager
def traced_on_the_page(port: int, text: str, width: int):
    """The server's page in Chromium, `width` pixels wide, after `text` was typed and traced."""
    browser_required()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"http://127.0.0.1:{port}")
        page.locator("#text").fill(text)
        page.locator("#text").press("Enter")
        yield page
        browser.close()
