"""CPU energy of one busy workload under the old fallback (CpuTdpMeter: TDP x utilisation over all logical CPUs),
the new one (CpuShareMeter: per-logical-CPU share, CCF per-vCPU on VMs) and, where it can be read, RAPL.

All meters watch the same process over the same seconds. Where RAPL exists the ratios fallback / RAPL are printed;
RAPL counts the whole socket (idle power and every other process too), so a ratio below 1 on an otherwise idle
many-core host is expected for a share method. Where RAPL cannot be read the reason is printed and the ratio
skipped.

    python benchmarks/cpu_fallback_vs_rapl.py                  # 10 s busy loop on every allowed CPU
    python benchmarks/cpu_fallback_vs_rapl.py --workload demo  # the demo's MLP training step, torch
    python benchmarks/cpu_fallback_vs_rapl.py --seconds 20 --json out.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1


def busy_loop(seconds: float, workers: int) -> str:
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    procs = [ctx.Process(target=_spin, args=(seconds,)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return f"busy loop, {workers} process(es) x {seconds:g} s"


def demo_training(seconds: float, workers: int) -> str:
    import torch

    from wattwise.demo import _digits, _mlp
    torch.set_num_threads(workers)
    torch.manual_seed(0)
    data = _digits()
    model = _mlp(256)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        for x, y in data.loader(64):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            if time.monotonic() >= end:
                break
    return f"demo teacher training (MLP 64-256-256-10 on digits, batch 64, {workers} torch threads), {steps} steps"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workload", choices=("loop", "demo"), default="loop")
    ap.add_argument("--workers", type=int, default=None, help="processes / threads (default: the allowed CPUs)")
    ap.add_argument("--rapl-root", default=None)
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()

    from wattwise.meters import MeterUnavailable
    from wattwise.meters.cpu_fallback import CpuTdpMeter
    from wattwise.meters.cpu_share import CpuShareMeter
    from wattwise.meters.rapl import DEFAULT_ROOT, RaplMeter
    from wattwise.meters.rapl_perf import RaplPerfMeter

    new = CpuShareMeter()
    workers = args.workers or max(1, int(new.plan.allocated))
    old = CpuTdpMeter()
    rapl, rapl_why = None, []
    for cand in (RaplMeter("package", args.rapl_root or DEFAULT_ROOT), RaplPerfMeter("package")):
        try:
            cand.start()
            rapl = cand
            break
        except MeterUnavailable as e:
            rapl_why.append(str(e))
    old.start()
    new.start()
    t0 = time.monotonic()
    what = (busy_loop if args.workload == "loop" else demo_training)(args.seconds, workers)
    wall = time.monotonic() - t0
    (o,), (n,) = old.read(), new.read()
    cpu_s = new.cpu_seconds()
    res = {"workload": what, "wall_s": wall, "cpu_s": cpu_s, "cpu": new.cpu_name,
           "old": {"meter": old.name, "energy_j": o.energy_j, "low_j": o.low_j, "high_j": o.high_j,
                   "mean_w": o.energy_j / wall, "method": old.source},
           "new": {"meter": new.name, "energy_j": n.energy_j, "low_j": n.low_j, "high_j": n.high_j,
                   "mean_w": n.energy_j / wall, "method": new.source}}
    print(f"{what}: {wall:.1f} s wall, {cpu_s:.1f} CPU-s ({cpu_s / wall:.2f} CPUs busy), CPU {new.cpu_name!r}")
    for key, r in (("old", o), ("new", n)):
        d = res[key]
        print(f"  {key} {d['meter']:10s} {r.energy_j:8.1f} J  ({r.low_j:.1f}-{r.high_j:.1f} J)  mean {d['mean_w']:.1f} W")
    print(f"  new/old = {n.energy_j / o.energy_j:.3f}" if o.energy_j else "  old fallback counted 0 J")
    print(f"  old method: {old.source}")
    print(f"  new method: {new.source}")
    if rapl is not None:
        e = sum(r.energy_j for r in rapl.read())
        rapl.close()
        res["rapl"] = {"meter": rapl.name, "energy_j": e, "mean_w": e / wall, "source": rapl.source,
                       "ratio_old": o.energy_j / e if e else None, "ratio_new": n.energy_j / e if e else None}
        print(f"  RAPL ({rapl.name}) {e:8.1f} J  mean {e / wall:.1f} W (whole socket(s))")
        if e:
            print(f"  ratio old/RAPL = {o.energy_j / e:.3f}   new/RAPL = {n.energy_j / e:.3f}")
    else:
        res["rapl"] = {"skipped": rapl_why}
        print("  RAPL skipped, no ratio: " + " | ".join(rapl_why))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
