"""Variants to compare, from files or the ledger.

Files: JSON (a list of objects, or {"variants": [...]}; `[m.to_dict() for m in measure_variants(...)]` is read as
it is) or CSV (a header row:
name, accuracy and cost columns such as flops_per_sample, latency_s, energy_per_1000_kwh, size_bytes, cost_usd).
Ledger: the runs tagged "compress" that `wattwise.compress.measure` records, one per variant.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..errors import InvalidValueError


def _number(text: str) -> Any:
    t = text.strip()
    if t == "":
        return None
    try:
        return int(t)
    except ValueError:
        try:
            return float(t)
        except ValueError:
            return t


def read_variants(path: str | Path) -> list[dict[str, Any]]:
    """Variants from a .json or .csv file (see the module doc)."""
    from ..files import read_text
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".json"):
        raise InvalidValueError(f"variants file {str(p)!r}: accepted formats are .json and .csv")
    text = read_text(p, "variants file")
    if p.suffix.lower() == ".csv":
        rows = [{k.strip(): _number(v or "") for k, v in r.items() if k}
                for r in csv.DictReader(io.StringIO(text, newline=""))]
        if not rows:
            raise InvalidValueError(f"variants file {str(p)!r} has no rows (a header line, then one line per variant)")
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidValueError(f"{str(p)!r} is not valid JSON: {e}") from None
        if isinstance(data, dict):
            data = data.get("variants", [data])
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise InvalidValueError(f"{str(p)!r}: expected a list of variant objects or {{\"variants\": [...]}}")
        rows = [dict(x) for x in data]
    for i, r in enumerate(rows):
        r.setdefault("name", f"{p.stem}#{i}")
    return rows


def ledger_variants(path: str | None, tag: str = "compress", model: str | None = None) -> list[dict[str, Any]]:
    """Variants recorded by `wattwise.compress.measure` in the ledger (runs tagged `tag`, optionally one model)."""
    from ..ledger import Ledger, to_footprint
    out = []
    with Ledger(path, create=False) as led:
        for rec in led.runs(tag=tag):
            ctx = rec.get("context", {})
            if model is not None and ctx.get("model") != model:
                continue
            fp = to_footprint(rec)
            row = {k: ctx.get(k) for k in ("variant", "model", "accuracy", "size_bytes", "params",
                                          "flops_per_sample", "latency_s")}
            row["name"] = ctx.get("variant") or rec.get("name") or rec["id"]
            n = ctx.get("inferences")
            if n and fp.energy_kwh is not None:
                row["energy_per_1000_kwh"] = fp.energy_kwh * 1000 / n
            if n and fp.cost_usd is not None:
                row["cost_per_1000_usd"] = fp.cost_usd * 1000 / n
            row["run_id"] = rec["id"]
            out.append(row)
    return out
