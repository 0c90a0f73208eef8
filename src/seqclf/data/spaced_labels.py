"""Labels written with spaces around them (" pos "): read without, as every reader does, and said once per
file or list, with the labels that thereby became one class with the same label written without spaces."""
from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence

from seqclf.errors import SeqclfWarning


def spaced_labels(label: object) -> list[str]:
    """The label, or the labels of a list, written with spaces around them (they are read without)."""
    names = label if isinstance(label, list) else [label]
    return [name for name in names if isinstance(name, str) and name.strip() and name != name.strip()]


def note_stripped_labels(source: str, spaced: list[tuple[str, str]], labels: Sequence[object] | Counter) -> None:
    """Say once that labels were read without the spaces around them, and which of them thereby became
    one class with the same label written without spaces. `labels`: every row's, or how often each was read."""
    if not spaced:
        return
    read = labels if isinstance(labels, Counter) else Counter(
        name for label in labels for name in (label if isinstance(label, tuple) else (label,)))
    stripped = Counter(written.strip() for _, written in spaced)
    merged = sorted(name for name, count in stripped.items() if read[name] > count)
    examples = "; ".join(f"{written!r} ({where}) as {written.strip()!r}" for where, written in spaced[:3])
    warnings.warn(SeqclfWarning(
        f"{source}: {len(spaced)} label(s) written with spaces around them read without: {examples}"
        + (", …" if len(spaced) > 3 else "")
        + (f"; written both ways, {', '.join(map(repr, merged))} "
           f"{'is one class' if len(merged) == 1 else 'are one class each'}" if merged else "")),
        stacklevel=3)
