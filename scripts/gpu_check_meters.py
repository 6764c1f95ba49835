"""GPU check of the NVML meter and MFU: a fixed bf16 matmul workload under the Tracker (finishes in < 90 s).

    python scripts/gpu_check_meters.py [--seconds 20] [--size 8192] [--dtype bf16]

Prints NVML energy from the total-energy counter (the Tracker's GPU meter) and from power sampling (a
second meter read after every batch, trapezoid rule), average power vs TDP, achieved FLOP/s and MFU vs the
catalog's dense peak (matmul FLOPs = 2 n^3 each). Writes a JSON summary to $OUT/meters_gpu.json when $OUT is
set. Anything missing (torch, CUDA, NVML, the GPU in the catalog) is reported with its reason, never a
traceback; exit status 0 unless the workload itself failed. `--allow-cpu` runs the same path on the CPU
(for testing without a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))


def _write(summary: dict) -> None:
    out = os.environ.get("OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "meters_gpu.json"), "w") as f:
            json.dump(summary, f, indent=2, default=str)
        print(f"wrote {os.path.join(out, 'meters_gpu.json')}")


def run_check(seconds: float = 20.0, size: int = 8192, dtype: str = "bf16", allow_cpu: bool = False,
              nvml=None, interval_s: float = 0.5) -> dict:
    """Run the workload; return the summary dict (with `ok` and `reasons`)."""
    summary: dict = {"ok": False, "reasons": [], "seconds": seconds, "size": size, "dtype": dtype}
    try:
        import torch
    except ImportError as e:
        summary["reasons"].append(f"torch missing: {e}")
        return summary
    if torch.cuda.is_available():
        device = "cuda"
        summary["device_name"] = torch.cuda.get_device_name(0)
    elif allow_cpu:
        device = "cpu"
        summary["reasons"].append("CUDA not available: running on CPU (--allow-cpu)")
    else:
        summary["reasons"].append("CUDA not available (torch.cuda.is_available() is False): no GPU check")
        return summary
    from wattwise.meters.base import MeterUnavailable
    from wattwise.meters.cpu_fallback import CpuTdpMeter
    from wattwise.meters.memory import MemoryModelMeter
    from wattwise.meters.nvml import NvmlMeter
    from wattwise.meters.nvml import catalog_gpu
    from wattwise.tracker import Tracker

    tdt = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dtype]
    if device == "cpu" and tdt is not torch.float32:
        tdt = torch.float32
    a = torch.randn(size, size, device=device, dtype=tdt)
    b = torch.randn(size, size, device=device, dtype=tdt)
    flops_per_mm = 2.0 * size ** 3

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    for _ in range(3):  # warm-up (cuBLAS heuristics, clocks)
        a @ b
    sync()

    sampled = NvmlMeter(nvml, sampling=True)
    try:
        sampled.start()
    except MeterUnavailable as e:
        summary["reasons"].append(f"NVML sampling meter: {e}")
        sampled = None
    nv_counter = NvmlMeter(nvml)
    meters = [nv_counter, CpuTdpMeter(), MemoryModelMeter()]
    ledger = os.path.join(tempfile.mkdtemp(), "ledger.db")
    # batch so that one batch is ~0.1-0.3 s on an H100 (8192^3 bf16 ~ 1.1 ms at 1 PFLOP/s)
    per_batch = 50 if device == "cuda" else 1
    t0 = time.perf_counter()
    n_mm = 0
    with Tracker("gpu-check-matmul", interval_s=interval_s, ledger=ledger, meters=meters, dtype=dtype,
                 handle_signals=False, region=os.environ.get("WATTWISE_REGION") or None) as tr:
        while time.perf_counter() - t0 < seconds:
            for _ in range(per_batch):
                a @ b
            sync()
            n_mm += per_batch
            tr.step(flops=flops_per_mm * per_batch)
            if sampled is not None:
                try:
                    sampled.read()
                except Exception as e:  # noqa: BLE001
                    summary["reasons"].append(f"NVML sampling read failed: {e}")
                    sampled = None
    wall_s = time.perf_counter() - t0
    fp = tr.footprint
    gpu = fp.energy_by_component_kwh.get("gpu") if fp else None
    counter_j = gpu.central * 3.6e6 if gpu else None
    sampled_j = sum(r.energy_j for r in sampled.read()) if sampled is not None else None
    if sampled is not None:
        sampled.close()
    names = [d.name for d in getattr(nv_counter, "devices", [])]
    acc = catalog_gpu(names[0]) if names else None
    achieved = n_mm * flops_per_mm / wall_s
    summary.update({
        "ok": True, "device": device, "nvml_devices": names, "matmuls": n_mm, "wall_s": wall_s,
        "flops": n_mm * flops_per_mm, "achieved_flop_per_s": achieved,
        "nvml_counter_energy_j": counter_j, "nvml_sampled_energy_j": sampled_j,
        "counter_vs_sampled": (counter_j / sampled_j) if counter_j and sampled_j else None,
        "gpu_energy_source": fp.sources.get("energy_gpu") if fp else None,
        "footprint": fp.to_dict() if fp else None, "tracker_warnings": tr._warnings,
    })
    energy_j = counter_j if counter_j else sampled_j
    if energy_j:
        summary["avg_power_w"] = energy_j / (len(names) or 1) / wall_s
    if acc is not None:
        summary["catalog_gpu"] = acc.model
        summary["tdp_w"] = acc.tdp_w
        try:
            peak = acc.peak(dtype)
            summary["peak_flop_per_s"] = peak
            summary["mfu"] = achieved / peak
        except Exception as e:  # noqa: BLE001
            summary["reasons"].append(f"no catalog peak: {e}")
        if summary.get("avg_power_w") and acc.tdp_w:
            summary["power_fraction_of_tdp"] = summary["avg_power_w"] / acc.tdp_w
    elif names:
        summary["reasons"].append(f"GPU {names[0]!r} not in the catalog: no peak, no MFU")
    summary["tracker_mfu"] = fp.mfu if fp else None
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--allow-cpu", action="store_true", help="run on the CPU when there is no GPU (testing)")
    args = ap.parse_args(argv)
    try:
        s = run_check(args.seconds, args.size, args.dtype, args.allow_cpu, interval_s=args.interval)
        rc = 0
    except Exception as e:  # noqa: BLE001 - report, do not hide
        s = {"ok": False, "reasons": [f"workload failed: {type(e).__name__}: {e}"],
             "traceback": traceback.format_exc()}
        rc = 1
    for k in ("device_name", "nvml_devices", "catalog_gpu", "wall_s", "matmuls", "nvml_counter_energy_j",
              "nvml_sampled_energy_j", "counter_vs_sampled", "avg_power_w", "tdp_w", "power_fraction_of_tdp",
              "achieved_flop_per_s", "peak_flop_per_s", "mfu", "tracker_mfu", "gpu_energy_source"):
        if k in s:
            v = s[k]
            print(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}")
    for r in s.get("reasons", []):
        print(f"note: {r}")
    print(f"ok: {s.get('ok')}")
    _write(s)
    return rc


if __name__ == "__main__":
    sys.exit(main())
