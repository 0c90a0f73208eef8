"""Where one training epoch of the classic model goes, by PyTorch operator (torch.profiler, CPU).

    python benchmarks/profile_epoch.py            # SST-2 train repeated 3 times, batch 32, as speed.py

Prints the operators with the largest self CPU time and the share of the epoch spent inside the
LSTM's own kernels (oneDNN's `mkldnn_rnn_layer`, forward and backward).
"""
from __future__ import annotations

import sys
from pathlib import Path

from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import CLASSIC, MAX_LEN, repeated_train  # noqa: E402

from seqclf import TextClassifier  # noqa: E402


def main() -> None:
    texts, labels = repeated_train(20_760)
    clf = TextClassifier(**CLASSIC, max_len=MAX_LEN, lr=1e-3, batch_size=32, epochs=1, lr_schedule="constant")
    clf.fit(texts[:2000], labels[:2000])  # warm up: the first call of each kernel
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        clf.fit(texts, labels)
    events = prof.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    rnn = sum(event.self_cpu_time_total for event in events if "rnn" in event.key.lower())
    print(events.table(sort_by="self_cpu_time_total", row_limit=15))
    print(f"self CPU time of all operators: {total / 1e6:.2f} s; inside the LSTM kernels (mkldnn_rnn*, forward and "
          f"backward): {rnn / 1e6:.2f} s = {rnn / total:.0%}")
    print(f"tokens/s of the profiled epoch: {clf.history.records[-1].tokens_per_second:,.0f} (profiling slows it)")


if __name__ == "__main__":
    main()
