"""A ledger run row and its footprint: the queryable index columns read off a Footprint (no arithmetic: that
is wattwise.measured's), the record -> Footprint conversion (schema 2 stores the footprint; schema-1 rows are
rebuilt from their columns), and the liveness of a running part."""

from __future__ import annotations

import math
import os
from typing import Any

from .footprint import Footprint, Quantity


# --- liveness and index columns ---------------------------------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    # a zombie (killed, not yet reaped) is gone for our purpose
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return data[data.rindex(b")") + 2:data.rindex(b")") + 3] != b"Z"
    except OSError:
        return True


def _part_status(part: dict, now: float, host: str) -> str:
    """A 'running' part whose process is gone (same host) or silent for long is reported 'lost'."""
    if part["status"] != "running":
        return part["status"]
    interval = float(part["info"].get("interval_s") or 1.0)
    if part["host"] == host and part["pid"] and not _pid_alive(int(part["pid"])):
        return "lost"
    if now - (part["updated_ts"] or 0) > max(10 * interval, 120.0):
        return "lost"
    return "running"


def _c(q) -> float | None:
    return None if q is None else float(q)


def index_columns(fp: Footprint) -> dict[str, Any]:
    """The run row's queryable columns, read off its footprint (no arithmetic here: see wattwise.measured)."""
    x = fp.extra
    comp = fp.energy_by_component_kwh
    cols: dict[str, Any] = {
        "start_ts": x.get("start_ts"), "end_ts": x.get("end_ts"), "updated_ts": x.get("updated_ts"),
        "duration_s": _c(fp.duration_s), "host": x.get("host"), "hardware": fp.hardware,
        "energy_gpu_kwh": _c(comp.get("gpu")), "energy_cpu_kwh": _c(comp.get("cpu")),
        "energy_memory_kwh": _c(comp.get("memory")), "it_energy_kwh": _c(fp.it_energy_kwh),
        "gpu_hours": _c(fp.gpu_hours), "flops": _c(fp.flops), "flop_per_s": fp.flop_per_s, "mfu": fp.mfu,
        "world_size": x.get("world_size") or 1,
    }
    for q in ("energy_kwh", "co2e_kg", "cost_usd"):
        v = getattr(fp, q)
        cols[q], cols[f"{q}_low"], cols[f"{q}_high"] = (None, None, None) if v is None else (float(v), v.low, v.high)
    # provenance: the view records have carried since schema 1
    cols["provenance"] = {
        "method": "measured", "components": x.get("components", {}), "devices": x.get("devices", []),
        "ranges": {"it_energy_kwh": _d(fp.it_energy_kwh), "energy_kwh": _d(fp.energy_kwh), "co2e_kg": _d(fp.co2e_kg),
                   "cost_usd": _d(fp.cost_usd), "energy_by_component_kwh": {c: _d(v) for c, v in comp.items()}},
        "sources": {k: _unlabelled(v) if k.startswith("energy_") else v for k, v in fp.sources.items()},
        "warnings": x.get("warnings", []), "parts": x.get("parts", []),
    }
    return cols


def _unlabelled(source: str) -> str:
    """A meter's source text without the 'measured: ' / 'estimated: ' label the footprint puts in front."""
    for label in ("measured", "estimated", "mixed (measured, then estimated after a meter failed)"):
        if source.startswith(label + ": "):
            return source[len(label) + 2:]
    return source


def _d(q) -> dict | None:
    """A Quantity or Range as the {low, central, high} dict of records."""
    return None if q is None else {"low": q.low, "central": float(q.central), "high": q.high}


# --- record -> footprint ------------------------------------------------------------------------------------------

def to_footprint(record: dict) -> Footprint:
    """The Footprint of a run record (method 'measured'), with the record's current status (a silent
    'running' run reads as 'lost'). Records written before schema 2 are rebuilt from their parts' totals."""
    d = record.get("footprint")
    if d:
        fp = Footprint.from_dict(d)
    else:  # schema 1 row: no stored footprint; its columns and provenance hold the totals
        fp = _legacy_footprint(record)
    fp.extra.update(run_id=record["id"], status=record["status"], name=record.get("name"),
                    project=record.get("project"), tags=record.get("tags"))
    fp.inputs.update(name=record.get("name"), project=record.get("project"), tags=record.get("tags"))
    return fp


def _legacy_footprint(record: dict) -> Footprint:
    prov, ctx = record.get("provenance", {}), record.get("context", {})
    rg = prov.get("ranges", {})
    sources = dict(prov.get("sources", {}))
    for c, kind in prov.get("components", {}).items():
        sources[f"energy_{c}"] = f"{kind}: " + sources.get(f"energy_{c}", "")
    q = {}
    for name in ("energy_kwh", "co2e_kg", "cost_usd"):
        if rg.get(name):
            q[name] = Quantity.from_dict(rg[name], "measured")
    for name in ("duration_s", "gpu_hours", "flops"):
        if record.get(name) is not None:
            q[name] = Quantity(record[name], method="measured")
    return Footprint(**q, it_energy_kwh=Quantity.from_dict(rg.get("it_energy_kwh"), "measured"),
                     energy_by_component_kwh={c: Quantity.from_dict(r, _legacy_method(prov, c))
                                              for c, r in rg.get("energy_by_component_kwh", {}).items() if r},
                     pue=Quantity.from_dict(ctx.get("pue")), intensity_g_per_kwh=Quantity.from_dict(
                         ctx.get("intensity_g_per_kwh")), mfu=record.get("mfu"), flop_per_s=record.get("flop_per_s"),
                     method="measured", hardware=record.get("hardware"), zone=record.get("region"), sources=sources,
                     extra={"world_size": record.get("world_size"), "start_ts": record.get("start_ts"),
                            "end_ts": record.get("end_ts"), "warnings": prov.get("warnings", []),
                            "errors": [p["error"] for p in prov.get("parts", []) if p.get("error")]})


def _legacy_method(prov: dict, component: str) -> str:
    kind = (prov.get("components") or {}).get(component, "measured")
    return kind if kind in ("measured", "estimated") else "mixed"


# --- the public record ------------------------------------------------------------------------------------------

# the documented keys of a run record (`wattwise runs show --json`, `runs export`), in order
RUN_KEYS = ("id", "name", "project", "tags", "status", "start", "end", "duration_s", "host", "hardware", "region",
            "pue", "intensity_g_per_kwh", "energy_gpu_kwh", "energy_cpu_kwh", "energy_memory_kwh", "it_energy_kwh",
            "energy_kwh", "energy_kwh_low", "energy_kwh_high", "co2e_kg", "co2e_kg_low", "co2e_kg_high", "cost_usd",
            "cost_usd_low", "cost_usd_high", "gpu_hours", "flops", "flop_per_s", "mfu", "world_size")
CSV_KEYS = RUN_KEYS + ("start_ts", "end_ts", "provenance")


def _json_safe(obj):
    """JSON has no NaN/inf: null instead."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def public_record(rec: dict) -> dict:
    """The documented keys of a run record (RUN_KEYS), then its provenance; NaN/inf as None."""
    out = {k: rec.get(k) for k in RUN_KEYS}
    out["provenance"] = rec.get("provenance", {})
    return _json_safe(out)
