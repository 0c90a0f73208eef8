"""Where the microseconds of one single-text prediction go, for the seqclf found on PYTHONPATH.

    python benchmarks/profile_predict.py                       # this checkout
    PYTHONPATH=/path/to/other/src python benchmarks/profile_predict.py --label before

For the classic model (and the default model) on the torch and the ONNX backend: the p50 of the whole
`predict_proba([text])` call, of tokenization alone (the tokenizer call the prediction makes:
`encode([text], every_id=False)`; `encode_for_model([text])` or `encode([text])` in older versions), and of ONNX
Runtime's own `session.run` on inputs prepared beforehand; the rest is the call's own overhead.
Prints one markdown row per model and backend.
"""
from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
from pathlib import Path

import numpy as np

from seqclf import TextClassifier
from seqclf.data.readers import read_dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import CLASSIC, SHARED, latency_us  # noqa: E402


def p50_us(call, texts: list[str]) -> float:
    return latency_us(call, texts)[0]


def session_of(clf: TextClassifier):
    """The ONNX Runtime session behind a classifier, wherever this version keeps it."""
    holder = getattr(clf, "predictor", clf)  # before the one model object: clf.predictor.engine
    return holder.engine.session


def model_encoder(tokenizer):
    """The tokenizer call a prediction makes, in this version or an older one."""
    if "every_id" in inspect.signature(tokenizer.encode).parameters:
        return lambda text: tokenizer.encode([text], every_id=False)
    encode = getattr(tokenizer, "encode_for_model", tokenizer.encode)
    return lambda text: encode([text])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    train = read_dataset(SHARED / "sst2" / "train.tsv")
    texts = read_dataset(SHARED / "sst2" / "test.tsv").texts[:1000]
    print("| version | model | backend | p50 whole call µs | tokenization µs | ONNX Runtime run µs | the rest µs |")
    print("|---|---|---|---|---|---|---|")
    for name, settings in (("classic", CLASSIC), ("default", {})):
        clf = TextClassifier(**settings, max_len=64, epochs=1).fit(train.texts[:2000], train.labels[:2000])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.onnx"
            clf.export_onnx(path)
            for backend in ("torch", "onnx"):
                loaded = TextClassifier.load(clf.save(Path(folder) / "m"), backend=backend,
                                             onnx_file=str(path) if backend == "onnx" else None)
                whole = p50_us(lambda t: loaded.predict_proba([t]), texts)
                tokenize = p50_us(model_encoder(loaded.tokenizer), texts)
                run = 0.0
                if backend == "onnx":
                    session = session_of(loaded)
                    prepared = {t: np.asarray(loaded.tokenizer.encode([t]).sequence(0), dtype=np.int64)[None, :]
                                for t in texts}
                    run = p50_us(lambda t: session.run(None, {"input_ids": prepared[t],
                                                             "attention_mask": np.ones_like(prepared[t])}), texts)
                print(f"| {args.label} | {name} | {backend} | {whole:.0f} | {tokenize:.0f} | "
                      f"{run:.0f} | {whole - tokenize - run:.0f} |", flush=True)


if __name__ == "__main__":
    main()
