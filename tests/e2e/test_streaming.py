"""`seqclf predict --input` streams: output lines appear while the input is still being read, and a run
killed outright (SIGKILL: no handler runs) between two of its writes leaves a valid prefix, each line whole
and in input order.

The kill lands between writes because the process is stopped first (SIGSTOP lets a write in progress
finish). A SIGKILL that lands while the kernel is still copying one write into the file can cut that
write at a page boundary (Linux ends a write early for a killed process), which no program can prevent;
a kill sent the moment output appears landed there once in about thirty CI runs."""
import json
import signal
import subprocess
import sys
import time

LINES = 400_000


def test_output_appears_while_it_runs_and_a_killed_run_leaves_a_valid_prefix(model_dir, tmp_path):
    texts = [f"text number {i} was {'good' if i % 3 else 'bad'}" for i in range(LINES)]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    with open(tmp_path / "out.jsonl", "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "seqclf", "predict", str(model_dir), "--input",
                                    str(tmp_path / "in.txt"), "--backend", "torch"], stdout=output,
                                   stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while (tmp_path / "out.jsonl").stat().st_size == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGSTOP)  # stops once the write in progress, if any, has returned
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()  # killed while still running
    written = (tmp_path / "out.jsonl").read_bytes().decode("utf-8")
    lines = written.split("\n")
    assert lines[-1] == ""  # the last line is whole: nothing after its line end
    rows = [json.loads(line) for line in lines[:-1]]
    assert 0 < len(rows) < LINES
    assert [row["text"] for row in rows] == texts[: len(rows)]
    assert all(isinstance(row["label"], str) and row["probabilities"] for row in rows)
