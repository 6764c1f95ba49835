"""The sample Grafana dashboard queries only metrics that wattwise.prometheus exports."""

import json
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"


def test_dashboard_queries_exported_metrics_only():
    dash = json.loads(DOC.read_text())
    exported = set(re.findall(r"wattwise_[a-z_]+", (Path(__file__).resolve().parents[2] / "src" / "wattwise" /
                                                     "prometheus.py").read_text()))
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"wattwise_[a-z_]+", e)}
    assert used and used <= exported, used - exported
    assert len({p["id"] for p in dash["panels"]}) == len(dash["panels"])
