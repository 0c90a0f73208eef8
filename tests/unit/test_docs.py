"""The README and docs/ stay true to the code: the set-up commands come first, every relative link
resolves, and the settings table is the one the config dataclasses print."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_the_readme_starts_with_the_two_set_up_commands():
    first_block = ROOT.joinpath("README.md").read_text().split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    targets = [m.group(1) for m in LINK.finditer(page.read_text()) if "://" not in m.group(1)
               and not m.group(1).startswith("mailto:")]
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert not missing


def test_the_settings_table_is_the_one_the_code_prints():
    printed = subprocess.run([sys.executable, ROOT / "docs" / "settings_table.py"], capture_output=True, text=True,
                             check=True).stdout
    assert printed.strip() in ROOT.joinpath("docs", "settings.md").read_text()
