"""The reference: the LSTM text classifier as a PyTorch textbook writes it.

Python tokenization into a vocabulary dict, every sequence padded to one length, a DataLoader with
batch 32, pack_padded_sequence, nn.LSTM, the last hidden state, a linear layer, Adam. The
benchmarks time seqclf against this on the same data and model sizes, and, as a whole process,

    python benchmarks/textbook.py TRAIN.tsv DEV.tsv OUT.pt [--epochs 1] [--max-len 64]

against `seqclf train TRAIN.tsv --valid DEV.tsv ...` with the same settings.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils.data import DataLoader, TensorDataset

WORD = re.compile(r"\w+|[^\w\s]+")


def tokenize(text: str) -> list[str]:
    return WORD.findall(text.lower())


class Vocabulary:
    def __init__(self, texts: list[str]) -> None:
        counts = Counter(word for text in texts for word in tokenize(text))
        self.index = {"<pad>": 0, "<unk>": 1}
        for word, _ in counts.most_common():
            self.index[word] = len(self.index)

    def encode(self, texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.zeros(len(texts), max_len, dtype=torch.long)
        lengths = torch.zeros(len(texts), dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = [self.index.get(word, 1) for word in tokenize(text)][:max_len] or [1]
            ids[row, : len(tokens)] = torch.tensor(tokens)
            lengths[row] = len(tokens)
        return ids, lengths


class TextbookLSTM(nn.Module):
    def __init__(self, vocab_size: int, embed_dim: int, hidden_dim: int, num_classes: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)
        return self.fc(hidden[-1])


def train(model: TextbookLSTM, ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, epochs: int,
          lr: float, batch_size: int = 32, seed: int = 0) -> list[dict]:
    """The textbook loop; returns per-epoch seconds and tokens/s (real tokens only)."""
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(ids, lengths, labels), batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    records = []
    for _ in range(epochs):
        model.train()
        started, tokens = time.perf_counter(), 0
        for batch_ids, batch_lengths, batch_labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(batch_ids, batch_lengths), batch_labels)
            loss.backward()
            optimizer.step()
            tokens += int(batch_lengths.sum())
        seconds = time.perf_counter() - started
        records.append({"seconds": seconds, "tokens_per_second": tokens / seconds})
    return records


def predict(model: TextbookLSTM, vocabulary: Vocabulary, texts: list[str], max_len: int,
            batch_size: int = 32) -> np.ndarray:
    """The textbook inference: tokenize, pad, batches of 32, softmax."""
    model.eval()
    ids, lengths = vocabulary.encode(texts, max_len)
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            logits = model(ids[start : start + batch_size], lengths[start : start + batch_size])
            out.append(torch.softmax(logits, dim=1))
    return torch.cat(out).numpy()


def read_tsv(path: str) -> tuple[list[str], list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [row["text"] for row in rows], [row["label"] for row in rows]


def main() -> None:
    """A whole training run: read, tokenize, train, validate, save the weights."""
    parser = argparse.ArgumentParser()
    parser.add_argument("train")
    parser.add_argument("dev")
    parser.add_argument("out")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--embed-dim", type=int, default=50)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    texts, labels = read_tsv(args.train)
    dev_texts, dev_labels = read_tsv(args.dev)
    classes = sorted(set(labels))
    vocabulary = Vocabulary(texts)
    ids, lengths = vocabulary.encode(texts, args.max_len)
    targets = torch.tensor([classes.index(label) for label in labels])
    model = TextbookLSTM(len(vocabulary.index), args.embed_dim, args.hidden_dim, len(classes))
    records = train(model, ids, lengths, targets, args.epochs, args.lr)
    probabilities = predict(model, vocabulary, dev_texts, args.max_len)
    accuracy = float(np.mean([classes[i] == label for i, label in zip(probabilities.argmax(1), dev_labels)]))
    torch.save({"model": model.state_dict(), "vocabulary": vocabulary.index, "classes": classes}, args.out)
    print(f"epochs {args.epochs}, tokens/s {records[-1]['tokens_per_second']:,.0f}, validation accuracy "
          f"{accuracy:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
