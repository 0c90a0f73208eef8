"""A model directory holds data only: the scan that refuses pickles, code and executables in one before
anything in it is read (loading never unpickles, and never follows a link out of the directory)."""
from __future__ import annotations

import stat
from collections.abc import Collection
from pathlib import Path

from seqclf.errors import ModelDirError

# Files that can run code when loaded by other tools (pickle) or by a shell; never part of a model.
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".npy", ".npz",
                   ".py", ".pyc", ".sh", ".so", ".exe", ".dll")
PICKLE_MAGIC = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))
EXECUTABLE_MAGIC = (b"\x7fELF", b"#!", b"MZ")


def refuse_unsafe_files(directory: Path, known_files: Collection[str]) -> None:
    """A model directory holds data only: no pickles, nothing executable, whatever its name.

    `.safetensors` files are exempt from the magic-byte checks: their first bytes are a length, and
    only the safetensors parser (which cannot run code) ever reads them.
    """
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            raise ModelDirError("contains a symbolic link; refusing to follow it", path=path,
                                hint="copy the real file into the model directory")
        if not path.is_file():
            continue
        with open(path, "rb") as handle:
            head = handle.read(4)
        data_only = path.suffix == ".safetensors"
        if path.suffix.lower() in UNSAFE_SUFFIXES or (not data_only and head.startswith(PICKLE_MAGIC)):
            raise ModelDirError("a pickle or code file in a model directory; refusing to load it", path=path,
                                hint="seqclf never writes such files: remove it if you trust its origin, "
                                     "or do not use this directory")
        known = path.parent == directory and path.name in known_files
        executable = path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) and not known
        if executable or (not data_only and head.startswith(EXECUTABLE_MAGIC)):
            raise ModelDirError("an executable file in a model directory; refusing to load it", path=path,
                                hint="seqclf never writes executables: remove it or do not use this directory")
