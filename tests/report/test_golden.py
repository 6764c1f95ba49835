"""Golden files: each format of the fixed ledger's card, byte for byte.

Regenerate after an intended change with  WATTWISE_REGEN_GOLDEN=1 pytest tests/report/test_golden.py
and review the diff.
"""

import os
from pathlib import Path

import pytest

from wattwise.report import EXTENSIONS, FORMATS, render

GOLDEN = Path(__file__).with_name("golden")
REGEN = os.environ.get("WATTWISE_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_golden(demo_card, fmt):
    text = render(demo_card, fmt)
    path = GOLDEN / ("demo_card" + (".modelcard" if fmt == "modelcard" else "") + EXTENSIONS[fmt])
    if REGEN:
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.exists(), f"missing golden file {path}; run with WATTWISE_REGEN_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (f"{fmt} output differs from {path.name}; if the change is intended, "
                              "regenerate with WATTWISE_REGEN_GOLDEN=1 and review the diff")


def test_rendering_is_deterministic(ledger_path):
    from wattwise.report import build_card
    from .ledger_fixture import GENERATOR
    a = build_card(project="demo", ledger=ledger_path, generator=GENERATOR)
    b = build_card(project="demo", ledger=ledger_path, generator=GENERATOR)
    for fmt in FORMATS:
        assert render(a, fmt) == render(b, fmt)
