"""One-shot GPU check of wattwise.compress (run once on a lent H100/H200; budget < 90 s):

    python scripts/gpu_check_compress.py            # from the repository root; writes $OUT/compress_gpu.json

For a small GPT-style transformer and a small CNN on CUDA: fp32, tf32, bf16, fp16, int8 dynamic / weight-only
(torchao), int4 weight-only (torchao, where its CUDA kernel is present), 50% unstructured and 50% structured
pruning (torch-pruning), each with speedup over fp32 (interleaved CUDA-synchronised timing, medians), size ratio,
output error; torchao int8 dynamic and fp32 also under torch.compile while the time budget allows. A variant that
fails prints its reason and the run goes on; nothing here raises.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import traceback
import warnings
from pathlib import Path

T0 = time.perf_counter()
BUDGET_S = float(os.environ.get("GPU_CHECK_BUDGET_S", "75"))     # stop starting new work after this
COMPILE_UNTIL_S = float(os.environ.get("GPU_CHECK_COMPILE_UNTIL_S", "35"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
warnings.filterwarnings("ignore")


def elapsed() -> float:
    return time.perf_counter() - T0


def log(msg: str) -> None:
    print(f"[{elapsed():5.1f}s] {msg}", flush=True)


def main() -> dict:
    out: dict = {"python": platform.python_version(), "rows": [], "errors": {}}
    try:
        import torch
    except ImportError as e:
        out["errors"]["torch"] = str(e)
        return out
    out["torch"] = torch.__version__
    try:
        import torchao
        out["torchao"] = torchao.__version__
    except Exception as e:  # noqa: BLE001
        out["torchao"] = f"unavailable: {type(e).__name__}: {e}"
    try:
        import torch_pruning
        out["torch_pruning"] = getattr(torch_pruning, "__version__", "?")
    except Exception as e:  # noqa: BLE001
        out["torch_pruning"] = f"unavailable: {type(e).__name__}: {e}"
    dev = os.environ.get("GPU_CHECK_DEVICE", "cuda")     # GPU_CHECK_DEVICE=cpu: a dry run of this script
    if dev == "cuda" and not torch.cuda.is_available():
        out["errors"]["cuda"] = "torch.cuda.is_available() is False"
        log("no CUDA device: nothing to check")
        return out
    out["device"] = torch.cuda.get_device_name(0) if dev == "cuda" else platform.processor() or "cpu"
    log(f"{out['device']}, torch {out['torch']}, torchao {out['torchao']}, torch-pruning {out['torch_pruning']}")
    from wattwise.compress import (compare_latency, prune_structured, prune_unstructured, quantize,
                                   serialized_bytes, supported_methods)
    from wattwise.compress.toys import TRANSFORMER_RESIDUAL_LAYERS, small_cnn, small_transformer
    out["supported_methods_cuda"] = supported_methods("cuda")
    torch.manual_seed(0)
    small = os.environ.get("GPU_CHECK_SMALL") == "1"
    cases = [
        ("transformer", small_transformer(vocab=8192, d_model=1024, n_heads=16, n_layers=6, max_seq=512),
         torch.randint(0, 8192, (8, 512))),
        ("cnn", small_cnn(width=128), torch.randn(64, 3, 64, 64)),
    ] if not small else [
        ("transformer", small_transformer(vocab=512, d_model=128, n_heads=4, n_layers=2, max_seq=64),
         torch.randint(0, 512, (4, 64))),
        ("cnn", small_cnn(width=16), torch.randn(8, 3, 32, 32)),
    ]
    for name, model, x in cases:
        if elapsed() > BUDGET_S:
            out["errors"][name] = "skipped: time budget spent"
            continue
        model, x = model.to(dev), x.to(dev)
        with torch.no_grad():
            ref = model(x).float()
        variants, notes = {"fp32": model}, {}

        def add(v, fn):
            if elapsed() > BUDGET_S:
                notes[v] = "skipped: time budget spent"
                return
            try:
                variants[v] = fn()
            except Exception as e:  # noqa: BLE001
                notes[v] = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
                log(f"{name}/{v} failed: {notes[v]}")

        for method in ("bf16", "fp16", "int8_dynamic", "int8_weight_only", "int4_weight_only"):
            def q(method=method):
                r = quantize(model, method)
                if r.skipped_layers:
                    notes[method] = f"kept in full precision: {', '.join(r.skipped_layers)}"
                return r.model
            add(method, q)
        add("unstructured50", lambda: prune_unstructured(model, 0.5).model)
        ign = TRANSFORMER_RESIDUAL_LAYERS if name == "transformer" else None
        add("structured50", lambda: prune_structured(model, x, 0.5, ignored_layers=ign).model)
        log(f"{name}: built {', '.join(variants)}")
        # tf32: same fp32 model, tensor-core matmuls; timed apart (a global switch)
        lat = compare_latency(variants, (x,), repeats=15, min_sample_s=5e-3, device=dev)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        try:
            lat_tf32 = compare_latency({"fp32": model}, (x,), repeats=15, min_sample_s=5e-3, device=dev)["fp32"]
            with torch.no_grad():
                y_tf32 = model(x).float()
        finally:
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
        compiled = {}
        for v in ("fp32", "int8_dynamic"):
            if v in variants and elapsed() < COMPILE_UNTIL_S:
                try:
                    t = time.perf_counter()
                    cm = torch.compile(variants[v])
                    with torch.no_grad():
                        cm(x)
                    if dev == "cuda":
                        torch.cuda.synchronize()
                    compiled[v] = (cm, time.perf_counter() - t)
                except Exception as e:  # noqa: BLE001
                    notes[v] = (notes.get(v, "") + f" compile failed: {type(e).__name__}").strip()
        clat = compare_latency({v: c for v, (c, _) in compiled.items()}, (x,), repeats=10, min_sample_s=5e-3,
                               device=dev) if compiled else {}
        b0, t_ref = serialized_bytes(model), lat["fp32"].median_s

        def err(y):
            return float(torch.linalg.vector_norm(y.float() - ref) / torch.linalg.vector_norm(ref))

        for v, m in variants.items():
            with torch.no_grad():
                e = err(m(x))
            row = {"model": name, "variant": v, "latency_ms": lat[v].median_s * 1e3,
                   "speedup": t_ref / lat[v].median_s, "size_ratio": b0 / serialized_bytes(m),
                   "output_rel_error": e, "note": notes.get(v, "")}
            if v in clat:
                row["compiled_speedup_vs_eager_fp32"] = t_ref / clat[v].median_s
                row["compile_s"] = compiled[v][1]
            out["rows"].append(row)
            if v == "fp32":
                out["rows"].append({"model": name, "variant": "tf32", "latency_ms": lat_tf32.median_s * 1e3,
                                    "speedup": t_ref / lat_tf32.median_s, "size_ratio": 1.0,
                                    "output_rel_error": err(y_tf32), "note": "fp32 weights, TF32 tensor cores"})
        for v, why in notes.items():
            if v not in variants:
                out["rows"].append({"model": name, "variant": v, "note": why})
        del variants, compiled
        if dev == "cuda":
            torch.cuda.empty_cache()
        log(f"{name}: done")
    return out


def table(out: dict) -> str:
    lines = [f"{'model':12} {'variant':18} {'ms':>9} {'speedup':>8} {'compiled':>9} {'size':>6} {'rel.err':>9}  note"]
    for r in out["rows"]:
        def f(k, spec):
            return format(r[k], spec) if r.get(k) is not None else ""
        lines.append(f"{r['model']:12} {r['variant']:18} {f('latency_ms', '9.3f')} {f('speedup', '8.2f')} "
                     f"{f('compiled_speedup_vs_eager_fp32', '9.2f')} {f('size_ratio', '6.2f')} "
                     f"{f('output_rel_error', '9.2e')}  {r.get('note', '')}")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        result = main()
    except Exception:  # noqa: BLE001 - report whatever happened, never crash
        result = {"rows": [], "errors": {"fatal": traceback.format_exc()}}
    result["wall_s"] = elapsed()
    print(table(result))
    for r in result["rows"]:
        for k in ("speedup", "size_ratio", "compiled_speedup_vs_eager_fp32"):
            if r.get(k) is not None:
                print(f"compress_gpu.{r['model']}.{r['variant']}.{k}: {r[k]:.4g}")
    if result.get("errors"):
        print("errors:", json.dumps(result["errors"], indent=1))
    print(f"wall {result['wall_s']:.1f} s")
    if os.environ.get("OUT"):
        p = Path(os.environ["OUT"]) / "compress_gpu.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(result, indent=2, default=str))
        print(f"wrote {p}")
