"""Every docs/integrations page's Python example runs as written (offline, in a scratch folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrations"
PAGES = sorted(DOCS.glob("*.md"))


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_every_integration_has_a_page_with_an_example():
    names = {p.stem for p in PAGES}
    assert {"huggingface", "lightning", "accelerate", "mlflow-wandb", "pytorch"} <= names
    assert all(_blocks(p) for p in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_example_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for code in _blocks(page):
        exec(compile(code, str(page), "exec"), {"__name__": "__docs__"})
