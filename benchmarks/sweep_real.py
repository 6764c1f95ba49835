"""A real, small IsoFLOP sweep on this machine (Hoffmann et al. 2022, Approach 2; Approach 3 beside).

4 budgets x 5 sizes of a character-level decoder on CPython's pydoc text, 2 worker processes, every run tracked
into a fresh ledger. Prints budgets, sizes, wall-clock, energy, the fitted exponents a and b with 90% bootstrap
intervals, and their ratio to Chinchilla's ~0.5 (Hoffmann et al. 2022, Table 2: a = 0.49, b = 0.51 by Approach 2).
Usage: python benchmarks/sweep_real.py [--workers 2] [--out DIR]   (about 5-10 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from wattwise.scaling.sweep import SweepConfig, run_sweep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--budgets", default="1e10,2.5e10,6e10,1.5e11")
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="wattwise-sweep-real-")
    cfg = SweepConfig(budgets_flops=tuple(float(b) for b in args.budgets.split(",")), sizes_per_budget=5,
                      spread=8.0, center_tokens_per_param=80.0, seq_len=32, batch_size=8, eval_tokens=16384,
                      min_d_model=8, max_d_model=128, max_layers=4)
    t0 = time.perf_counter()

    def progress(event, spec, info):
        if event == "done":
            print(f"  done {spec.key:22s} N={spec.params:>7d} D={spec.tokens:>9d} loss={info['loss']:.4f} "
                  f"({time.perf_counter() - t0:6.1f} s)", flush=True)

    res = run_sweep(cfg, ledger=os.path.join(out, "ledger.db"), out_dir=out,
                    executor="workers" if args.workers > 1 else "local", workers=args.workers, bootstrap=2000,
                    bootstrap3=200, progress=progress)
    wall = time.perf_counter() - t0
    print(f"sweep {res.sweep_id}: {len(res.runs)} runs, {args.workers} workers, out {out}")
    print("budgets (FLOPs):", ", ".join(f"{b:.3g}" for b in sorted(set(cfg.budgets_flops))))
    for c in sorted({r['budget_flops'] for r in res.runs}):
        rows = sorted((r for r in res.runs if r["budget_flops"] == c), key=lambda r: r["params"])
        print(f"  C={c:.3g}: " + "  ".join(f"N={r['params']}({r['d_model']}x{r['n_layers']}) L={r['loss']:.4f}"
                                          for r in rows))
    for m in res.fit2["minima"]:
        print(f"  minimum C={m['flops']:.3g}: N*={m['params']:.4g} D*={m['tokens']:.4g} D*/N*={m['tokens'] / m['params']:.1f}"
              f" interior={m['interior']}")
    t = res.totals
    print(f"wall-clock: {wall:.1f} s (sum of run durations {t.duration_s:.1f} s)")
    print(f"compute: {t.flops:.3g} FLOPs counted ({t.extra['flops_6nd']:.3g} as 6ND)")
    print(f"energy: {t.energy_kwh * 1000:.3f} Wh [{t.energy_kwh.low * 1000:.3f}, {t.energy_kwh.high * 1000:.3f}]"
          f" (facility); CO2e {t.co2e_kg * 1000:.3f} g")
    for name, f in (("approach2", res.fit2), ("approach3", res.fit3)):
        for k, ref in (("a", 0.49 if name == "approach2" else 0.46), ("b", 0.51 if name == "approach2" else 0.54)):
            v, ci = f.get(k), f.get("ci", {}).get(k)
            if v is None:
                print(f"{name} {k}: no fit ({'; '.join(f['notes'])})")
                continue
            ci_s = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else " [no interval]"
            print(f"{name} {k}: {v:.3f}{ci_s} (90%); Chinchilla {ref}")
            print(f"sweep_{name}_{k}_vs_chinchilla: {v / ref:.2f}")
    p = res.fit2.get("plan")
    if p:
        ci = res.fit2.get("ci", {}).get("plan_params")
        print(f"plan {res.plan_flops:.3g} FLOPs: N={p['params']:.4g}" + (f" [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else "")
              + f", D={p['tokens']:.4g}")
        pf = res.plan_footprint
        if pf is not None and pf.energy_kwh is not None:
            print(f"plan footprint (extrapolated): {pf.energy_kwh * 1000:.3f} Wh, {pf.duration_s or 0:.0f} s")
    for n in res.fit2["notes"] + res.fit3["notes"]:
        print("note:", n)


if __name__ == "__main__":
    main()
