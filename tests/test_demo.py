"""`wattwise demo --quick` end to end: every promised file exists and parses, the ledger holds the runs, and a
second run reuses the ledger."""

import json
import re

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("torch_pruning")

from wattwise.cli.main import main  # noqa: E402
from wattwise.ledger import Ledger  # noqa: E402

from .test_cli import run_cli  # noqa: E402


def _front_matter(text: str) -> str:
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert m, "model card must start with YAML front matter"
    return m.group(1)


def test_demo_quick_end_to_end(tmp_path):
    out = tmp_path / "demo"
    code, stdout, stderr = run_cli("demo", "--quick", "--out", str(out))
    assert code == 0, stderr
    for step in ("1. Estimate before training", "2. Measure a real training run", "3. Make it cheaper",
                 "4. Report", "Verdict"):
        assert step in stdout
    assert "58.8 ZFLOPs" in stdout and "108,889" in stdout

    html = (out / "efficiency-card.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "<svg" in html and "<script" not in html.lower()
    card = json.loads((out / "efficiency-card.json").read_text())
    assert card["schema"].startswith("wattwise.card/")
    md = (out / "efficiency-card.md").read_text()
    assert md.startswith("# ") and "| Quantity |" in md
    yaml_text = _front_matter((out / "model-card.md").read_text())
    grams = float(re.search(r"^\s+emissions:\s*([0-9.eE+-]+)", yaml_text, re.M).group(1))
    assert grams > 0 and "training_type" in yaml_text and "hardware_used" in yaml_text
    try:
        import yaml
    except ImportError:
        pass
    else:
        assert yaml.safe_load(yaml_text)["co2_eq_emissions"]["emissions"] == pytest.approx(grams)

    runs = Ledger(out / "ledger.db").runs(project="wattwise-demo")
    names = sorted(r["name"] for r in runs)
    assert "digits-mlp/teacher-training" in names
    assert {"digits-mlp/teacher", "digits-mlp/student", "digits-mlp/pruned-50%"} <= set(names)
    assert all(r["status"] == "ok" and r["energy_kwh"] and r["energy_kwh"] > 0 for r in runs)
    teacher = next(r for r in runs if r["name"] == "digits-mlp/teacher-training")
    assert teacher["flops"] and teacher["flops"] > 1e6
    assert len(card["runs"]) == len(runs)

    # a second run reuses the ledger: the card now covers both runs' records
    code, _, stderr = run_cli("demo", "--quick", "--out", str(out))
    assert code == 0, stderr
    assert len(Ledger(out / "ledger.db").runs(project="wattwise-demo")) == 2 * len(runs)
    card2 = json.loads((out / "efficiency-card.json").read_text())
    assert len(card2["runs"]) == 2 * len(runs)


def test_demo_bad_region_is_one_red_line(tmp_path):
    code, out, err = run_cli("demo", "--quick", "--out", str(tmp_path / "d"), "--region", "Atlantis")
    assert code == 2 and "unknown grid zone" in err and "Traceback" not in out + err
    assert main is not None
