"""Compressed variants side by side on a small GPT-style transformer and a small CNN: for each variant the speedup
over fp32 (interleaved timing, medians), the size ratio (fp32 bytes / variant bytes, torch.save of the state dict),
the FLOPs ratio (counted) and the output error (relative L2 distance to the fp32 output), all measured in this run.

    python benchmarks/compress.py [--threads 1] [--compile] [--repeats 15] [--json out.json]

Prints a table per model and `name: ratio` lines (`compress.<model>.<variant>.speedup: 2.10`, `.size_ratio`).
Variants: bf16; int8 dynamic (torchao; torch's legacy quantize_dynamic); int8 and int4 weight-only (torchao);
static int8 through PT2E (CNN); magnitude pruning 50% unstructured (no speedup expected: dense kernels) and 50%
structured (channels; FFN neurons + attention heads for the transformer), without recovery training, so their
error is the raw cost of pruning. A variant that cannot run here is listed with the reason.
With --compile, every variant is also timed under torch.compile (speedup against compiled fp32), which takes a
few minutes on a small CPU.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import torch

from wattwise.compress import compare_latency, prune_structured, prune_unstructured, quantize, serialized_bytes
from wattwise.compress.toys import TRANSFORMER_RESIDUAL_LAYERS, small_cnn, small_transformer

QUANT = ("bf16", "int8_dynamic", "int8_dynamic_legacy", "int8_weight_only", "int4_weight_only", "int8_static")


def _flops(model, x) -> float | None:
    try:
        from wattwise import count_flops
        return count_flops(model, x).forward
    except Exception:
        return None


def build_variants(name: str, model, x) -> tuple[dict, dict, dict]:
    """(variants, flops-counting models, reasons for the ones that could not be built)."""
    variants, counting, skipped = {"fp32": model}, {}, {}
    for method in QUANT:
        if method == "int8_static" and name != "cnn":
            continue
        try:
            res = quantize(model, method, example_inputs=(x,))
            variants[method] = res.model
            counting[method] = model        # quantized tensor subclasses: count the fp32 architecture
            if res.skipped_layers:
                skipped[method] = f"kept in fp: {', '.join(res.skipped_layers)}"
        except Exception as e:  # noqa: BLE001 - report and go on
            skipped[method] = f"{type(e).__name__}: {str(e)[:160]}"
    variants["unstructured50"] = prune_unstructured(model, 0.5).model
    ignored = TRANSFORMER_RESIDUAL_LAYERS if name == "transformer" else None
    variants["structured50"] = prune_structured(model, x, 0.5, ignored_layers=ignored).model
    return variants, counting, skipped


def rel_error(y, ref) -> float:
    return float(torch.linalg.vector_norm(y.float() - ref) / torch.linalg.vector_norm(ref))


def run_model(name: str, model, x, *, repeats: int, compile_: bool) -> list[dict]:
    with torch.no_grad():
        ref = model(x).float()
    variants, counting, skipped = build_variants(name, model, x)
    lat = compare_latency(variants, (x,), repeats=repeats, min_sample_s=5e-3)
    clat, ctime = {}, {}
    if compile_:
        compiled = {}
        for v, m in variants.items():
            try:
                cm = torch.compile(m)
                t0 = time.perf_counter()
                with torch.no_grad():
                    cm(x)
                ctime[v] = time.perf_counter() - t0
                compiled[v] = cm
            except Exception as e:  # noqa: BLE001
                skipped[v] = (skipped.get(v, "") + f" compile failed: {type(e).__name__}").strip()
        clat = compare_latency(compiled, (x,), repeats=repeats, min_sample_s=5e-3)
    b0, t0 = serialized_bytes(model), lat["fp32"].median_s
    f0 = _flops(model, x)
    rows = []
    for v, m in variants.items():
        with torch.no_grad():
            err = rel_error(m(x), ref)
        f = _flops(counting.get(v, m), x)
        row = {"model": name, "variant": v, "latency_s": lat[v].median_s,
               "latency_iqr_s": lat[v].p75_s - lat[v].p25_s, "speedup": t0 / lat[v].median_s,
               "size_bytes": serialized_bytes(m), "size_ratio": b0 / serialized_bytes(m),
               "flops_ratio": (f0 / f) if f0 and f else None, "output_rel_error": err,
               "note": skipped.get(v, "")}
        if compile_ and v in clat and "fp32" in clat:
            row.update(compiled_latency_s=clat[v].median_s, compiled_speedup=clat["fp32"].median_s / clat[v].median_s,
                       compiled_speedup_vs_eager_fp32=t0 / clat[v].median_s, compile_time_s=ctime[v])
        rows.append(row)
    for v, why in skipped.items():
        if v not in variants:
            rows.append({"model": name, "variant": v, "note": why})
    return rows


def print_table(rows: list[dict], compile_: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table(title=f"{rows[0]['model']}: variants vs fp32 (threads={torch.get_num_threads()})", title_justify="left")
    cols = ["variant", "latency ms", "speedup", "size ratio", "FLOPs ratio", "rel. error"]
    if compile_:
        cols += ["compiled speedup", "compile s"]
    for c in cols + ["note"]:
        t.add_column(c, justify="left" if c in ("variant", "note") else "right", overflow="fold")

    def f(x, spec):
        return "" if x is None else format(x, spec)

    for r in rows:
        cells = [r["variant"], f(r.get("latency_s") and r["latency_s"] * 1e3, ".3g"), f(r.get("speedup"), ".2f"),
                 f(r.get("size_ratio"), ".2f"), f(r.get("flops_ratio"), ".2f"), f(r.get("output_rel_error"), ".2e")]
        if compile_:
            cells += [f(r.get("compiled_speedup"), ".2f"), f(r.get("compile_time_s"), ".1f")]
        t.add_row(*cells, r.get("note", ""))
    Console(width=160).print(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--compile", action="store_true", help="also time every variant under torch.compile")
    ap.add_argument("--json", default=None, help="write the rows here")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = [
        ("transformer", small_transformer(vocab=2048, d_model=256, n_heads=8, n_layers=4, max_seq=128),
         torch.randint(0, 2048, (8, 128))),
        ("cnn", small_cnn(width=64), torch.randn(32, 3, 32, 32)),
    ]
    all_rows = []
    for name, model, x in cases:
        rows = run_model(name, model, x, repeats=args.repeats, compile_=args.compile)
        print_table(rows, args.compile)
        all_rows += rows
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for r in all_rows:
        for k in ("speedup", "size_ratio", "flops_ratio", "output_rel_error", "compiled_speedup"):
            if r.get(k) is not None:
                print(f"compress.{r['model']}.{r['variant']}.{k}: {r[k]:.4g}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(all_rows, fh, indent=2)


if __name__ == "__main__":
    main()
