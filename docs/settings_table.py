"""Print the settings table of docs/settings.md from the config dataclasses and the preset files.

    python docs/settings_table.py    # paste over the table under "All settings" in docs/settings.md
"""
from __future__ import annotations

import dataclasses

from seqclf.config import FIELD_HELP, SECTIONS, load_preset

PRESETS = ("fast", "accurate", "classic")


def shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) or "(empty)"


def main() -> None:
    presets = {name: load_preset(name) for name in PRESETS}
    print("| setting | default | " + " | ".join(PRESETS) + " | meaning |")
    print("|---|---|" + "---|" * len(PRESETS) + "---|")
    for section in SECTIONS.values():
        for field in dataclasses.fields(section):
            values = [shown(presets[p][field.name]) if field.name in presets[p] else "" for p in PRESETS]
            meaning = FIELD_HELP[field.name].replace(" | ", " / ")
            print(f"| `{field.name}` | {shown(field.default)} | " + " | ".join(values) + f" | {meaning} |")


if __name__ == "__main__":
    main()
