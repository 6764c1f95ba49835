#!/usr/bin/env python3
"""Board power while training, as a fraction of TDP, measured with NVML (run once on a lent GPU; ~60 s).

Source of the estimator's default power range (wattwise.defaults.POWER_FRACTION_OF_TDP): idle, and bf16
training steps of GPT-2 small and large (AdamW, eager PyTorch), each with counted FLOPs and MFU.
Writes $OUT/power_fraction.json when OUT is set.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import pynvml
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from wattwise import catalog  # noqa: E402
from wattwise.flops import build_model, count_flops  # noqa: E402


class PowerSampler:
    def __init__(self, handle, interval_s: float = 0.05):
        self.handle, self.interval_s, self.samples, self._stop = handle, interval_s, [], threading.Event()

    def __enter__(self):
        self.e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)  # mJ
        self.t0 = time.perf_counter()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(pynvml.nvmlDeviceGetPowerUsage(self.handle) / 1000.0)
            time.sleep(self.interval_s)

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
        self.duration_s = time.perf_counter() - self.t0
        self.energy_j = (pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle) - self.e0) / 1000.0


def train(arch: str, batch: int, seq: int, seconds: float, handle, tdp_w: float, peak: float) -> dict:
    model = build_model(arch, device="cuda").to(torch.bfloat16)
    tokens = torch.randint(0, 50257, (batch, seq), device="cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    counted = count_flops(lambda t: model(t), tokens, train_step=True)
    flops_per_step = counted.forward + counted.backward

    def step():
        logits = model(tokens)
        torch.nn.functional.cross_entropy(logits.float().view(-1, logits.shape[-1]), tokens.view(-1)).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    steps = 0
    with PowerSampler(handle) as ps:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            step()
            steps += 1
        torch.cuda.synchronize()
    avg_w = ps.energy_j / ps.duration_s
    return {"arch": arch, "batch": batch, "seq": seq, "steps": steps, "duration_s": ps.duration_s,
            "energy_j": ps.energy_j, "avg_power_w": avg_w, "power_fraction_of_tdp": avg_w / tdp_w,
            "sampled_mean_w": sum(ps.samples) / len(ps.samples), "flops_per_step": flops_per_step,
            "mfu": flops_per_step * steps / ps.duration_s / peak}


def main() -> None:
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    name = pynvml.nvmlDeviceGetName(handle)
    acc = catalog.gpu("H200" if "H200" in name else "H100" if "H100" in name else "A100")
    tdp_w, peak = acc.tdp_w, acc.peak("bf16")
    out = {"device": name, "catalog": acc.model, "tdp_w": tdp_w,
           "enforced_limit_w": pynvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000}
    torch.cuda.init()
    with PowerSampler(handle) as ps:
        time.sleep(3)
    out["idle_w"] = ps.energy_j / ps.duration_s
    out["idle_fraction_of_tdp"] = out["idle_w"] / tdp_w
    print(json.dumps({k: out[k] for k in ("device", "idle_w", "idle_fraction_of_tdp")}))
    out["runs"] = []
    for arch, batch in (("gpt2", 16), ("gpt2-large", 8)):
        try:
            r = train(arch, batch, 1024, 15, handle, tdp_w, peak)
        except Exception as e:  # report and go on
            r = {"arch": arch, "error": f"{type(e).__name__}: {e}"}
        out["runs"].append(r)
        print(json.dumps(r))
        torch.cuda.empty_cache()
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "power_fraction.json"), "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
