#!/usr/bin/env python3
"""GPU check of the FLOP counter (run once on a lent CUDA machine; about 30 s).

1. The model zoo counted on CUDA equals its analytic ground truth and the CPU/meta counts (forward and
   forward+backward).
2. A GPT-2 (124M) training step in bf16 on the GPU: counted FLOPs, timed step (CUDA events), achieved FLOP/s
   and model FLOPs utilisation against the catalog's dense bf16 peak of the detected GPU.
Writes $OUT/flops_gpu.json when OUT is set. Never stops at the first failure: each part reports its own error.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from wattwise import catalog  # noqa: E402
from wattwise.flops import build_model, count_flops  # noqa: E402
from wattwise.flops.zoo import ZOO  # noqa: E402


def detect_gpu() -> str | None:
    name = torch.cuda.get_device_name(0)
    for candidate in ("H200", "H100 NVL", "H100 PCIe", "H100", "A100", "L40S", "L4", "A10G", "T4", "B200"):
        if candidate.lower() in name.lower():
            return candidate.replace(" ", "-")
    return None


def zoo_on_cuda() -> list[dict]:
    rows = []
    for name, entry in ZOO.items():
        row = {"model": name}
        try:
            model, args = entry.build("cuda")
            fn = (lambda *a: entry.call(model, *a)) if entry.call else model
            fwd = count_flops(fn, *args)
            row["forward"] = fwd.forward
            row["forward_truth"] = entry.forward_flops
            row["forward_exact"] = fwd.forward == entry.forward_flops
            row["coverage"] = dict(fwd.coverage)
            if entry.trainable:
                tr = count_flops(fn, *args, train_step=True)
                row["backward"] = tr.backward
                row["backward_truth"] = entry.backward_flops
                row["backward_exact"] = tr.backward == entry.backward_flops
        except Exception as e:  # report and go on
            row["error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
        print(json.dumps(row))
    return rows


def gpt2_train_step(gpu: str | None, batch: int = 16, seq: int = 1024, steps: int = 10) -> dict:
    model = build_model("gpt2", device="cuda").to(torch.bfloat16)
    tokens = torch.randint(0, 50257, (batch, seq), device="cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        logits = model(tokens)
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, logits.shape[-1]), tokens.view(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    counted = count_flops(lambda t: model(t), tokens, train_step=True)
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(steps):
        step()
    end.record()
    torch.cuda.synchronize()
    step_s = start.elapsed_time(end) / 1000 / steps
    flops = counted.forward + counted.backward
    out = {"batch": batch, "seq": seq, "counted_flops_per_step": flops, "six_n_d": 6 * 124_439_808 * batch * seq,
           "step_s": step_s, "achieved_flop_per_s": flops / step_s}
    if gpu:
        peak = catalog.gpu(gpu).peak("bf16")
        out.update(gpu=gpu, peak_bf16_flop_per_s=peak, mfu=flops / step_s / peak)
    return out


def main() -> None:
    result: dict = {"torch": torch.__version__}
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return
    result["device"] = torch.cuda.get_device_name(0)
    gpu = detect_gpu()
    result["catalog_gpu"] = gpu
    t0 = time.time()
    try:
        result["zoo"] = zoo_on_cuda()
    except Exception:
        result["zoo_error"] = traceback.format_exc()
    try:
        result["gpt2_train_step"] = gpt2_train_step(gpu)
        print(json.dumps(result["gpt2_train_step"]))
    except Exception:
        result["gpt2_error"] = traceback.format_exc()
        print(result["gpt2_error"])
    result["elapsed_s"] = time.time() - t0
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "flops_gpu.json"), "w") as f:
            json.dump(result, f, indent=1)
    ok = all(r.get("forward_exact") and r.get("backward_exact", True) for r in result.get("zoo", []))
    print(f"zoo exact on CUDA: {ok}; elapsed {result['elapsed_s']:.1f} s")


if __name__ == "__main__":
    main()
