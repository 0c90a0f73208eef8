"""Speed and memory of seqclf against the textbook loop and fastText, measured in one run; its
backends (PyTorch, ONNX Runtime, float32 and int8) side by side, and the sizes of exported files.

    python benchmarks/speed.py            # the full run (about 25 minutes on 2 cores)
    python benchmarks/speed.py --quick    # a smaller run, to check that everything works

Each measurement runs in its own subprocess so that its peak RSS is its own. Results are printed
and written to benchmarks/results/speed.md. Ratios compare figures from this one run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("SEQCLF_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
RESULTS = HERE / "results" / "speed.md"
CLASSIC = dict(embed_dim=50, hidden_dim=64, bidirectional=False, pooling="last", embed_dropout=0.0, dropout=0.0)
MAX_LEN, LR, BATCH = 64, 1e-3, 32


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- data ------------------------------------------------------------------------------------------


def sst2(split: str) -> tuple[list[str], list[str]]:
    from seqclf.data.readers import read_dataset

    data = read_dataset(SHARED / "sst2" / f"{split}.tsv")
    return data.texts, data.labels


def repeated_train(minimum: int) -> tuple[list[str], list[str]]:
    texts, labels = sst2("train")
    times = -(-minimum // len(texts))
    return texts * times, labels * times


def write_generated_corpus(path: Path, sentences: int, seed: int = 0) -> None:
    """Sentences of SST-2-like lengths over a Zipf vocabulary; each class has its own marker words."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{i}" for i in range(30_000)])
    markers = {label: np.array([f"{label}{i}" for i in range(200)]) for label in ("pos", "neg", "neu")}
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("label\ttext\n")
        for start in range(0, sentences, 100_000):
            n = min(100_000, sentences - start)
            lengths = np.clip(rng.gamma(4.0, 5.0, size=n).astype(int), 3, 60)
            words = vocabulary[np.minimum(rng.zipf(1.3, size=int(lengths.sum())) - 1, len(vocabulary) - 1)]
            labels = rng.choice(list(markers), size=n)
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            for i in range(n):
                sentence = list(words[offsets[i] : offsets[i + 1]])
                sentence[rng.integers(len(sentence))] = rng.choice(markers[labels[i]])
                handle.write(f"{labels[i]}\t{' '.join(sentence)}\n")


# -- workers: each prints one JSON object ------------------------------------------------------------


def worker_train_textbook(n: int, epochs: int) -> dict:
    import torch

    sys.path.insert(0, str(HERE))
    import textbook

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    texts, labels = repeated_train(n)
    dev_texts, dev_labels = sst2("dev")
    classes = sorted(set(labels))
    vocabulary = textbook.Vocabulary(texts)
    ids, lengths = vocabulary.encode(texts, MAX_LEN)
    targets = torch.tensor([classes.index(label) for label in labels])
    torch.manual_seed(0)
    model = textbook.TextbookLSTM(len(vocabulary.index), CLASSIC["embed_dim"], CLASSIC["hidden_dim"], len(classes))
    records = textbook.train(model, ids, lengths, targets, epochs, LR, BATCH)
    probabilities = textbook.predict(model, vocabulary, dev_texts, MAX_LEN)
    accuracy = float(np.mean([classes[i] == label for i, label in zip(probabilities.argmax(1), dev_labels)]))
    tokens_per_second = float(np.mean([r["tokens_per_second"] for r in records]))
    return {"tokens_per_second": tokens_per_second, "valid_accuracy": accuracy, "peak_rss_mb": peak_rss_mb()}


def worker_train_seqclf(n: int, epochs: int) -> dict:
    from seqclf import TextClassifier

    texts, labels = repeated_train(n)
    clf = TextClassifier(**CLASSIC, max_len=MAX_LEN, lr=LR, batch_size=BATCH, epochs=epochs, lr_schedule="constant")
    clf.fit(texts, labels, valid=sst2("dev"))
    records = clf.history.records
    return {"tokens_per_second": float(np.mean([r.tokens_per_second for r in records])),
            "valid_accuracy": records[-1].valid_accuracy, "peak_rss_mb": peak_rss_mb()}


def latency_us(predict_one, texts: list[str]) -> tuple[float, float]:
    """p50 and p99 in µs of one call per text (after 50 warm-up calls)."""
    for text in texts[:50]:
        predict_one(text)
    seconds = []
    for text in texts:
        started = time.perf_counter()
        predict_one(text)
        seconds.append(time.perf_counter() - started)
    return float(np.percentile(seconds, 50) * 1e6), float(np.percentile(seconds, 99) * 1e6)


def worker_predict(system: str, n: int, single: int, settings: str = "classic") -> dict:
    """Batched sentences/s over n texts, then single-text latency over `single` texts. seqclf's model:
    the classic config, or the default settings (`settings="default"`)."""
    import torch

    texts, labels = repeated_train(n)
    texts = texts[:n]
    unique_texts = sst2("test")[0][:single]
    if system == "textbook":
        sys.path.insert(0, str(HERE))
        import textbook

        torch.set_num_threads(len(os.sched_getaffinity(0)))
        vocabulary = textbook.Vocabulary(texts)
        model = textbook.TextbookLSTM(len(vocabulary.index), CLASSIC["embed_dim"], CLASSIC["hidden_dim"], 2)
        batch = lambda: textbook.predict(model, vocabulary, texts, MAX_LEN)
        one = lambda text: textbook.predict(model, vocabulary, [text], MAX_LEN)
    elif system in SEQCLF_BACKENDS:
        from seqclf import TextClassifier
        from seqclf.deploy.backend import BackendConfig

        model = CLASSIC if settings == "classic" else {}
        clf = TextClassifier(**model, max_len=MAX_LEN, epochs=1).fit(texts[:2000], labels[:2000])
        backend, quantize = SEQCLF_BACKENDS[system]
        folder = tempfile.mkdtemp()
        onnx_file = clf.export_onnx(Path(folder) / "model.onnx", quantize).path if backend == "onnx" else None
        clf.use_backend(BackendConfig(backend, quantize, None if onnx_file is None else str(onnx_file)))
        batch = lambda: clf.predict_proba(texts)
        one = lambda text: clf.predict_proba([text])
    else:
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.writelines(f"__label__{label} {text}\n" for text, label in zip(*sst2("train")))
        model = fasttext.train_supervised(handle.name, epoch=5, wordNgrams=2, verbose=0, thread=2)
        os.unlink(handle.name)
        batch = lambda: model.predict(texts, k=-1)
        one = lambda text: model.predict(text, k=-1)
    batch()  # warm up
    started = time.perf_counter()
    batch()
    seconds = time.perf_counter() - started
    p50, p99 = latency_us(one, unique_texts)
    return {"sentences_per_second": len(texts) / seconds, "p50_us": p50, "p99_us": p99, "peak_rss_mb": peak_rss_mb()}


SEQCLF_BACKENDS = {"seqclf": ("torch", None), "seqclf-int8": ("torch", "int8"), "seqclf-onnx": ("onnx", None),
                   "seqclf-onnx-int8": ("onnx", "int8")}
SIZE_MODELS = {  # (name, settings): the classic model, and one whose weights are mostly recurrent/linear
    "classic": CLASSIC,
    "recurrent-heavy": dict(embed_dim=64, hidden_dim=256, num_layers=2, bidirectional=True, pooling="max"),
}


def worker_sizes(model: str) -> dict:
    """Bytes of the float32 and int8 ONNX files (and the PyTorch weights) of a model trained briefly."""
    from torch import nn

    from seqclf import TextClassifier
    from seqclf.deploy.quantize import quantize_torch, torch_weight_bytes

    texts, labels = sst2("train")
    clf = TextClassifier(**SIZE_MODELS[model], max_len=MAX_LEN, epochs=1).fit(texts[:2000], labels[:2000])
    dense = (nn.Linear, nn.LSTM, nn.GRU, nn.Conv1d)
    share = sum(p.numel() for m in clf.model.modules() if isinstance(m, dense) for p in m.parameters(recurse=False))
    with tempfile.TemporaryDirectory() as folder:
        fp32 = clf.export_onnx(Path(folder) / "model.onnx")
        int8 = clf.export_onnx(Path(folder) / "model.int8.onnx", "int8")
    return {"parameters": sum(p.numel() for p in clf.model.parameters()),
            "dense_share": share / sum(p.numel() for p in clf.model.parameters()),
            "onnx_fp32": fp32.bytes, "onnx_int8": int8.bytes, "parity_error": fp32.parity_error,
            "torch_fp32": torch_weight_bytes(clf.model), "torch_int8": torch_weight_bytes(quantize_torch(clf.model))}


def worker_scale(path: str, cache_dir: str, epochs: int) -> dict:
    """Encode (or load from the cache) and train the classic model on a generated file."""
    from seqclf import TextClassifier
    from seqclf.config import Config
    from seqclf.text.cache import CorpusCache
    from seqclf.text.encoded import encode_training_file
    from seqclf.data.readers import read_dataset

    config = Config.from_dict({**CLASSIC, "max_len": MAX_LEN, "lr": LR, "batch_size": BATCH, "epochs": max(epochs, 1),
                               "valid_fraction": 0.01})
    tokenizer, train = encode_training_file(path, config.data, config.tokenizer, CorpusCache(Path(cache_dir)))
    encoded_rss = peak_rss_mb()
    tokenize_seconds = train.seconds - train.read_seconds
    result = {"sentences": len(train), "tokens": train.tokens, "read_seconds": train.read_seconds,
              "tokenize_seconds": tokenize_seconds, "from_cache": train.from_cache,
              "tokenize_tokens_per_second": train.tokens / max(tokenize_seconds, 1e-9),
              "load_seconds": train.seconds, "encode_peak_rss_mb": encoded_rss}
    result["peak_rss_mb"] = peak_rss_mb()
    if train.from_cache:  # the vocabulary exists: time encoding alone on a sample of the file's texts
        sample = read_dataset(path).texts[:200_000]  # (after the RSS reading: this reads the whole file)
        started = time.perf_counter()
        tokens = int(tokenizer.encode(sample).lengths.sum())
        result["encode_only_tokens_per_second"] = tokens / (time.perf_counter() - started)
    if epochs:
        clf = TextClassifier(config).fit_encoded(tokenizer, train)
        result |= {"train_tokens_per_second": clf.history.records[0].tokens_per_second,
                   "valid_accuracy": clf.history.records[0].valid_accuracy, "peak_rss_mb": peak_rss_mb()}
    return result


# The whole-process comparison: what a user types, from process start to the model written. seqclf's
# flags are the issue's own (its other settings: the defaults); the textbook script's the same sizes.
PROCESS_FLAGS = ["--epochs", "1", "--embed-dim", "50", "--hidden-dim", "64", "--max-len", str(MAX_LEN)]
SEQCLF_TRAIN_FLAGS = [*PROCESS_FLAGS, "--no-bidirectional", "--pooling", "last", "--no-cache"]


def write_tsv(path: Path, texts: list[str], labels: list[str]) -> Path:
    path.write_text("label\ttext\n" + "".join(f"{l}\t{t}\n" for t, l in zip(texts, labels)), encoding="utf-8")
    return path


def timed_process(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def train_processes(folder: Path, n: int, rounds: int) -> dict:
    """`seqclf train` and the textbook script as processes, alternately, on the same files."""
    train = write_tsv(folder / "big.tsv", *repeated_train(n))
    dev = write_tsv(folder / "dev.tsv", *sst2("dev"))
    seqclf = [sys.executable, "-m", "seqclf", "train", str(train), "--valid", str(dev), "--out", str(folder / "model"),
              *SEQCLF_TRAIN_FLAGS]
    textbook = [sys.executable, str(HERE / "textbook.py"), str(train), str(dev), str(folder / "textbook.pt"),
                *PROCESS_FLAGS]
    runs = [{"seqclf": timed_process(seqclf), "textbook": timed_process(textbook)} for _ in range(rounds)]
    return {"seqclf": float(np.median([r["seqclf"] for r in runs])),
            "textbook": float(np.median([r["textbook"] for r in runs])),
            "ratios": [r["textbook"] / r["seqclf"] for r in runs]}


def predict_processes(folder: Path, n: int) -> dict:
    """`seqclf predict --input` on n sentences as a process, for each backend (classic model)."""
    texts, labels = repeated_train(n)
    (folder / "texts.txt").write_text("".join(text + "\n" for text in texts[:n]), encoding="utf-8")
    train = write_tsv(folder / "train.tsv", *sst2("train"))
    model = folder / "predict-model"
    subprocess.run([sys.executable, "-m", "seqclf", "train", str(train), "--out", str(model), *SEQCLF_TRAIN_FLAGS],
                   check=True, capture_output=True)
    for quantize in ([], ["--quantize", "int8"]):
        subprocess.run([sys.executable, "-m", "seqclf", "export", str(model), *quantize], check=True, capture_output=True)
    seconds = {}
    for name, flags in (("torch", []), ("onnx", ["--backend", "onnx"]),
                        ("onnx int8", ["--backend", "onnx", "--quantize", "int8"])):
        command = [sys.executable, "-m", "seqclf", "predict", str(model), "--input", str(folder / "texts.txt"), *flags]
        seconds[name] = float(np.median([timed_process(command) for _ in range(3)]))
    return seconds


WORKERS = {"train-textbook": worker_train_textbook, "train-seqclf": worker_train_seqclf,
           "predict": worker_predict, "sizes": worker_sizes, "scale": worker_scale}


def run_worker(name: str, *args: object) -> dict:
    command = [sys.executable, __file__, "--worker", name, *map(str, args)]
    print("running", " ".join(command[2:]), flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"worker {name} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print("  ", result, flush=True)
    return result


# -- the report ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a check, not a measurement")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, *values = args.worker
        values = [int(v) if v.isdigit() else v for v in values]
        print(json.dumps(WORKERS[name](*values)))
        return

    n, epochs, scale, single = (20_000, 1, 100_000, 200) if args.quick else (103_800, 1, 2_000_000, 1000)
    started = time.time()
    # Training alternates between the two systems, `rounds` times: the machine's speed drifts, and
    # the median of per-round ratios is fairer than one run of each.
    rounds = [{system: run_worker(f"train-{system}", n, epochs) for system in ("textbook", "seqclf")}
              for _ in range(1 if args.quick else 3)]
    train = {system: rounds[0][system] | {"tokens_per_second": float(np.median(
        [r[system]["tokens_per_second"] for r in rounds]))} for system in ("textbook", "seqclf")}
    train["ratios"] = [r["seqclf"]["tokens_per_second"] / r["textbook"]["tokens_per_second"] for r in rounds]
    predict = {system: run_worker("predict", system, n, single) for system in ("textbook", *SEQCLF_BACKENDS, "fasttext")}
    default = {system: run_worker("predict", system, n, single, "default") for system in SEQCLF_BACKENDS}
    sizes = {model: run_worker("sizes", model) for model in SIZE_MODELS}
    with tempfile.TemporaryDirectory() as folder:
        print("whole processes: seqclf train and the textbook script, alternately", flush=True)
        processes = train_processes(Path(folder), n, 1 if args.quick else 3)
        print("  ", processes, flush=True)
        print("whole processes: seqclf predict --input", flush=True)
        predict_seconds = predict_processes(Path(folder), 100_000 if not args.quick else 20_000)
        print("  ", predict_seconds, flush=True)
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "generated.tsv"
        write_generated_corpus(corpus, scale)
        first = run_worker("scale", corpus, Path(folder) / "cache", 1)
        second = run_worker("scale", corpus, Path(folder) / "cache", 0)
    report = render(train, predict, default, sizes, first, second, n, epochs, scale, time.time() - started, args.quick,
                    processes, predict_seconds)
    print(report)
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report, encoding="utf-8")
        print(f"written to {RESULTS}")


def render(train, predict, default, sizes, first, second, n, epochs, scale, seconds, quick, processes,
           predict_seconds) -> str:
    ratio = lambda a, b: f"{a / b:.2f}x"
    t, s, f = predict["textbook"], predict["seqclf"], predict["fasttext"]
    o, o8 = predict["seqclf-onnx"], predict["seqclf-onnx-int8"]
    heavy = sizes["recurrent-heavy"]
    lines = [
        "# Speed and memory" + (" (quick check, not a measurement)" if quick else ""),
        "",
        f"Measured by `python benchmarks/speed.py` on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, in one run of {seconds / 60:.1f} min. "
        f"Model: the classic config (embedding 50, LSTM 64, last state), max_len {MAX_LEN}, batch {BATCH}, "
        f"Adam lr {LR}. Training data: SST-2 train repeated to {n:,} sentences; validation: SST-2 dev.",
        "",
        "## Training",
        "",
        f"The two systems trained alternately, {len(train['ratios'])} time(s) each; tokens/s are medians. "
        f"Per-round ratios: {', '.join(f'{r:.2f}x' for r in train['ratios'])} (median {np.median(train['ratios']):.2f}x).",
        "",
        "| system | tokens/s | ratio to textbook (median of rounds) | validation accuracy after "
        f"{epochs} epoch(s) | peak RSS MB |",
        "|---|---|---|---|---|",
        f"| textbook loop (padded to {MAX_LEN}, DataLoader, pack_padded_sequence) | "
        f"{train['textbook']['tokens_per_second']:,.0f} | 1.00x | {train['textbook']['valid_accuracy']:.4f} | "
        f"{train['textbook']['peak_rss_mb']:.0f} |",
        f"| seqclf (bucketed batches, padded fast path, sparse embedding updates) | {train['seqclf']['tokens_per_second']:,.0f} | "
        f"{np.median(train['ratios']):.2f}x | "
        f"{train['seqclf']['valid_accuracy']:.4f} | {train['seqclf']['peak_rss_mb']:.0f} |",
        "",
        "## Prediction",
        "",
        f"Batched: all {n:,} texts in one call. Single text: one call per text, over distinct SST-2 test sentences.",
        "",
        "| system | sentences/s (batched) | ratio to fastText | single-text p50 µs | p99 µs | "
        "p50 ratio to textbook | p50 ratio to torch backend | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = [("textbook (batches of 32)", t), ("seqclf `predict_proba`, torch backend", s),
            ("seqclf, torch backend, int8", predict["seqclf-int8"]), ("seqclf, onnx backend (ONNX Runtime)", o),
            ("seqclf, onnx backend, int8", o8), ("fastText `predict`", f)]
    for name, row in rows:
        lines.append(f"| {name} | {row['sentences_per_second']:,.0f} | {ratio(row['sentences_per_second'], f['sentences_per_second'])} | "
                     f"{row['p50_us']:.0f} | {row['p99_us']:.0f} | {ratio(row['p50_us'], t['p50_us'])} | "
                     f"{ratio(row['p50_us'], s['p50_us'])} | {row['peak_rss_mb']:.0f} |")
    lines += [
        "",
        "Single-text latency includes tokenization (the same code for every seqclf backend). The ONNX "
        "files are exported from the same trained model by `TextClassifier.export_onnx`.",
        "",
        "The same, for a model with seqclf's default settings (embedding 300, bidirectional LSTM 2 x 100, "
        "max pooling), where the model's own work weighs more than the fixed cost of a call:",
        "",
        "| backend | sentences/s (batched) | single-text p50 µs | p99 µs | p50 ratio to torch backend | peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for system, (backend, quantize) in SEQCLF_BACKENDS.items():
        row = default[system]
        lines.append(f"| {backend} {quantize or 'fp32'} | {row['sentences_per_second']:,.0f} | {row['p50_us']:.0f} | "
                     f"{row['p99_us']:.0f} | {ratio(row['p50_us'], default['seqclf']['p50_us'])} | "
                     f"{row['peak_rss_mb']:.0f} |")
    lines += [
        "",
        "## Exported sizes",
        "",
        "Each model trained one epoch on 2,000 SST-2 sentences (vocabulary of those), then exported. int8: "
        "dynamic quantization of the linear, recurrent and convolution weights and of the embedding tables.",
        "",
        "| model | parameters | in linear/recurrent layers | ONNX float32 | ONNX int8 | int8 / float32 | "
        "PyTorch float32 | PyTorch int8 | export parity error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, row in sizes.items():
        lines.append(f"| {model} ({', '.join(f'{k} {v}' for k, v in SIZE_MODELS[model].items() if k != 'dropout')}) | "
                     f"{row['parameters']:,} | {row['dense_share']:.0%} | {row['onnx_fp32'] / 1e6:.2f} MB | "
                     f"{row['onnx_int8'] / 1e6:.2f} MB | {ratio(row['onnx_int8'], row['onnx_fp32'])} | "
                     f"{row['torch_fp32'] / 1e6:.2f} MB | {row['torch_int8'] / 1e6:.2f} MB | {row['parity_error']:.1e} |")
    lines += [
        "",
        "## Scale",
        "",
        f"A generated corpus of {scale:,} sentences "
        f"({first['tokens']:,} tokens after truncation to {MAX_LEN}), classic model, one epoch (1% held out).",
        "",
        "| run | read file | tokenize (vocabulary + ids) | tokenization tokens/s | training tokens/s | peak RSS MB |",
        "|---|---|---|---|---|---|",
        f"| first: read, tokenize, write the cache, train | {first['read_seconds']:.1f} s | {first['tokenize_seconds']:.1f} s | "
        f"{first['tokenize_tokens_per_second']:,.0f} | {first['train_tokens_per_second']:,.0f} | {first['peak_rss_mb']:.0f} |",
        f"| second: memory-map the cache | - | - (loaded in {second['load_seconds']:.2f} s) | - | (not trained) | "
        f"{second['peak_rss_mb']:.0f} |",
        "",
        f"Encoding alone, with the vocabulary built (as for validation, test and prediction data), on "
        f"200,000 sentences of the same file: {second['encode_only_tokens_per_second']:,.0f} tokens/s.",
        "",
        "## Whole processes",
        "",
        f"As a user runs them, from process start to output written, on the same machine in the same minutes "
        f"(medians of {len(processes['ratios'])} alternating rounds).",
        "",
        f"- `seqclf train big.tsv --valid dev.tsv {' '.join(SEQCLF_TRAIN_FLAGS)} --out DIR` ({n:,} sentences: SST-2 "
        f"train repeated): **{processes['seqclf']:.1f} s**; the textbook script "
        f"(`benchmarks/textbook.py`, the same sizes, Adam lr {LR}, batch {BATCH}): {processes['textbook']:.1f} s; "
        f"ratio {np.median(processes['ratios']):.2f}x (rounds: "
        f"{', '.join(f'{r:.2f}x' for r in processes['ratios'])}).",
        "- `seqclf predict MODEL --input texts.txt` on 100,000 SST-2 sentences (classic model, JSON lines to "
        "/dev/null): " + ", ".join(f"{name} **{sec:.2f} s**" for name, sec in predict_seconds.items()) + ".",
        "",
        "## Targets",
        "",
        f"- tokenization ≥ 3M tokens/s encoding: **{second['encode_only_tokens_per_second']:,.0f}**; vocabulary "
        f"building ≥ 2M tokens/s (vocabulary and ids, one pass): **{first['tokenize_tokens_per_second']:,.0f}**",
        f"- batched prediction ≥ 0.6x fastText (classic model): torch **{ratio(s['sentences_per_second'], f['sentences_per_second'])}**, "
        f"onnx **{ratio(o['sentences_per_second'], f['sentences_per_second'])}**, onnx int8 "
        f"**{ratio(o8['sentences_per_second'], f['sentences_per_second'])}**",
        f"- `seqclf predict --input` on 100,000 sentences ≤ 3 s as a whole process: best "
        f"**{min(predict_seconds.values()):.2f} s** ({min(predict_seconds, key=predict_seconds.get)})",
        f"- single-text p50 ≤ 100 µs on the ONNX backend, classic model: **{o['p50_us']:.0f} µs** (int8 {o8['p50_us']:.0f} µs); "
        f"default model: torch {default['seqclf']['p50_us']:.0f} µs, onnx {default['seqclf-onnx']['p50_us']:.0f} µs "
        "(the same measured before this change: docs/performance.md)",
        f"- whole-process training ≥ 5x the textbook script: **{np.median(processes['ratios']):.2f}x**",
        f"- per-epoch training tokens/s ≥ 6x the textbook loop: **{np.median(train['ratios']):.2f}x** (median of the "
        f"rounds), validation accuracy {train['seqclf']['valid_accuracy']:.4f} vs {train['textbook']['valid_accuracy']:.4f}",
        f"- int8 ONNX file ≤ 0.35x the float32 file for a model mostly linear/recurrent ({heavy['dense_share']:.0%}): "
        f"**{ratio(heavy['onnx_int8'], heavy['onnx_fp32'])}**",
        f"- 2M-sentence epoch under 2 GB peak RSS: **{first['peak_rss_mb']:,.0f} MB**",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
