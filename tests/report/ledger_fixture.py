"""A fixed ledger for the report tests: deterministic ids, timestamps and energies, written through the real
`wattwise.ledger.Ledger.write_part` with contexts shaped like the tracker's.

Project 'demo': a baseline on 2 GPUs, two sweep trials (one failed, named `<script>alert(1)</script>`), a
distilled variant; plus one run of project 'other'. Three 'demo' runs carry an accuracy, so a Pareto table
appears. Names also hold LaTeX specials (% _ & # $ { } ~ ^ \\).
"""

from __future__ import annotations

from pathlib import Path

from wattwise.ledger import Ledger

T0 = 1767225600.0  # 2026-01-01T00:00:00Z
XSS = "<script>alert(1)</script>"
GENERATOR = "wattwise (test fixture)"

PUE = {"low": 1.09, "central": 1.1, "high": 1.12}
FRA = {"low": 44.18, "central": 44.18, "high": 44.18}
PRICE = {"per": "gpu_hour", "low": 1.2, "central": 2.0, "high": 3.5}
SOURCES = {
    "intensity": "FRA (France, from argument) 44.18 gCO2e/kWh, 2024, lifecycle, Our World in Data, carbon "
                 "intensity of electricity (Ember; Energy Institute)",
    "pue": "preset gcp: 1.1 (2025; Google Environmental Report) fixture",
    "cost": "catalog GPU offers (fixture), newest 2026-01: 1.2-2-3.5 USD/GPU-h",
    "peak": "A100 SXM4 80GB peak bf16 3.12e+14 FLOP/s (NVIDIA datasheet)",
    "energy_gpu": "NVML total-energy counter (nvmlDeviceGetTotalEnergyConsumption), +/- 5 W x duration",
    "energy_cpu": "RAPL package counter (powercap)",
    "energy_memory": "memory model 0.375 W/GB x resident GB (estimate)",
}


def _ctx(name, project, tags, **extra):
    return {"name": name, "project": project, "tags": tags, "region": "FRA", "location_known": True,
            "pue": PUE, "intensity_g_per_kwh": FRA, "price": PRICE, "peak_flop_per_s": 3.12e14, "dtype": "bf16",
            "interval_s": 600.0, "sources": dict(SOURCES), **extra}


# run id, name, project, tags, status, start offset s, duration s, GPUs, GPU W, CPU W, mem W, flops, error, extra
RUNS = [
    ("run-0001-baseline", "baseline", "demo", ["baseline"], "ok", 0, 3600, 2, 300.0, 60.0, 6.0, 6.0e17, None,
     {"accuracy": 0.912, "flops_method": "counted"}),
    ("run-0002-sweep-a", "sweep_lr=1e-3 50% & #1", "demo", ["sweep"], "ok", 4000, 1800, 1, 280.0, 55.0, 6.0,
     1.5e17, None, {"accuracy": 0.895, "flops_method": "6ND"}),
    ("run-0003-sweep-b", XSS, "demo", ["sweep"], "failed", 6000, 900, 1, 310.0, 58.0, 6.0, None,
     "RuntimeError: CUDA out of memory", {}),
    ("run-0004-distilled", "distilled {student} ~50% ^2 \\ $5", "demo", ["variant"], "ok", 7200, 1200, 1, 250.0,
     50.0, 6.0, 1.0e17, None, {"accuracy": 0.899, "flops_method": "counted"}),
    ("run-0005-other", "other project", "other", [], "ok", 9000, 600, 1, 200.0, 40.0, 6.0, 2.0e16, None, {}),
]


def _gpu_energy_j(gpu_w, dur, steps, i):
    """Cumulative GPU energy after i of `steps` intervals; the power varies by +/-10% between intervals."""
    return sum(gpu_w * (1.0 + 0.1 * ((j % 3) - 1)) * dur / steps for j in range(i))


def _readings(gpus, gpu_e_j, cpu_w, mem_w, t):
    out = []
    for g in range(gpus):
        e = gpu_e_j
        out.append({"device": f"node-1/gpu/GPU-000{g}", "component": "gpu", "energy_j": e,
                    "low_j": e - 5.0 * t, "high_j": e + 5.0 * t, "kind": "measured",
                    "label": "NVIDIA A100-SXM4-80GB"})
    out.append({"device": "node-1/rapl/package-0", "component": "cpu", "energy_j": cpu_w * t, "low_j": cpu_w * t,
                "high_j": cpu_w * t, "kind": "measured", "label": "package-0"})
    out.append({"device": "node-1/pid/4242/memory", "component": "memory", "energy_j": mem_w * t,
                "low_j": 0.5 * mem_w * t, "high_j": 1.5 * mem_w * t, "kind": "estimated", "label": "memory"})
    return out


def make_ledger(path: str | Path) -> Path:
    """Write the fixed ledger at `path` (which must not exist) and return the path."""
    path = Path(path)
    with Ledger(path) as led:
        for (rid, name, project, tags, status, off, dur, gpus, gw, cw, mw, flops, error, extra) in RUNS:
            ctx = _ctx(name, project, tags, **extra)
            start = T0 + off
            steps = 6
            for i in range(steps + 1):
                t = dur * i / steps
                readings = _readings(gpus, _gpu_energy_j(gw, dur, steps, i), cw, mw, t)
                last = i == steps
                part = {"rank": 0, "host": "node-1", "pid": 4242, "status": status if last else "running",
                        "start_ts": start, "end_ts": start + t if last else None, "updated_ts": start + t,
                        "flops": (flops * t / dur if flops else None), "steps": i,
                        "readings": readings,
                        "info": {"interval_s": 600.0, "world_size": 1, "warnings": [],
                                 "error": error if last else None, "exit_code": 1 if last and error else None,
                                 "sources": {}}}
                sample = {"t_s": t, "energy_gpu_j": sum(r["energy_j"] for r in readings if r["component"] == "gpu"),
                          "energy_cpu_j": cw * t, "energy_memory_j": mw * t, "flops": part["flops"]}
                led.write_part(rid, ctx, part, sample)
    return path
