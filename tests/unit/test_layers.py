"""The layer contracts of pyproject.toml ([tool.importlinter]): kept by the code, and able to fail."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the package under root/src, with root/pyproject.toml's contracts."""
    environment = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          capture_output=True, text=True, env=environment, timeout=120)


def test_the_code_keeps_every_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module, upward, contract", [
    ("nn/classifier.py", "from seqclf.text.batching import pad_ids", "Layers"),  # a component reaching sideways
    ("data/readers.py", "import seqclf.text.tokenizer", "Layers"),  # stage 1 reaching up to stage 2
    ("ids.py", "import seqclf.text.tokenizer", "Layers"),  # the base reaching up
    ("cli.py", "from seqclf.artifacts import CONFIG", "public layer"),  # a face reaching past the public layer
    # the two loops the engines floor had when its modules were joined with ':'
    ("artifacts.py", "from seqclf.training.checkpoint import save_checkpoint", "Layers"),
    ("training/settings.py", "from seqclf.config import Config", "Layers"),
    # modules of one line (`|`) are independent; in the middle floor too
    ("trace.py", "import seqclf.config", "Layers"),
    ("answers.py", "import seqclf.explain", "Layers"),
])
def test_an_import_against_the_layers_fails(tmp_path, module, upward, contract):
    shutil.copytree(REPO / "src" / "seqclf", tmp_path / "src" / "seqclf", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "src" / "seqclf" / module
    path.write_text(path.read_text() + f"\n{upward}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "1 broken" in result.stdout and contract in result.stdout.split("BROKEN")[0].splitlines()[-1]


def test_every_module_is_on_a_floor_and_no_floor_joins_modules():
    """No module escapes the contract, and a floor's modules are either ordered (lines) or independent (`|`)."""
    text = (REPO / "pyproject.toml").read_text()
    layers = text[text.index("layers = ["):text.index("]", text.index("layers = ["))]
    assert ":" not in "".join(line.split("#")[0] for line in layers.splitlines()[1:])
    listed = {name.strip().strip('",') for line in layers.splitlines()[1:] if not line.strip().startswith("#")
              for name in line.split("|") if name.strip().strip('",')}
    package = REPO / "src" / "seqclf"
    modules = {"seqclf." + ".".join(path.relative_to(package).with_suffix("").parts)
               for path in package.rglob("*.py") if path.name != "__init__.py"}
    uncovered = sorted(m for m in modules if not any(m == name or m.startswith(name + ".") for name in listed))
    assert not uncovered

