"""`TextClassifier.fit` in a real Jupyter notebook: a real IPython kernel (ipykernel) runs the cells, driven by
nbclient as a notebook front end would. The fit shows a live progress widget (ipywidgets) and the training
trace in the cell's output; `progress=False` shows nothing."""
import json
import re

import nbformat
from nbclient import NotebookClient

SETUP = """\
from seqclf import TextClassifier
from seqclf.data.demo import demo_corpus
texts, labels = demo_corpus(300)
settings = dict(max_len=12, embed_dim=16, hidden_dim=12, epochs=2, bidirectional=False, pooling="last")"""


def run_notebook(*cells: str) -> nbformat.NotebookNode:
    """The notebook, after a kernel ran its cells in order (their outputs and the widgets' state saved in it)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    return notebook


def shown_text(outputs: list[dict]) -> str:
    """What the cell printed or displayed as text."""
    parts = []
    for output in outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def test_fit_in_a_notebook_shows_a_progress_widget_and_the_training_trace():
    notebook = run_notebook(SETUP, "clf = TextClassifier(**settings).fit(texts, labels)",
                            "quiet = TextClassifier(**settings).fit(texts, labels, progress=False)")
    _, shown, silent = (cell.outputs for cell in notebook.cells)
    text = shown_text(shown)
    assert "training trace" in text and "best epoch: " in text, text
    epochs = re.findall(r"^\s+(\d+) [ *]\s+\d+\.\d{4}", text, flags=re.MULTILINE)
    assert epochs == ["1", "2"], text  # one row of the trace per epoch
    widgets = [output for output in shown if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert len(widgets) == 2  # one live line per epoch, as a notebook widget: "epoch 1/2 ━━━ 3/9 batches · ..."
    state = json.dumps(notebook.metadata["widgets"])
    assert "epoch 1/2" in state and "epoch 2/2" in state and "batches" in state
    # the trace is shown as HTML, as a notebook renders it (its text/plain keeps the terminal's bold)
    assert all("text/html" in output.data for output in shown if output not in widgets)
    assert silent == []
