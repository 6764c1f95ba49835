"""The Hugging Face Trainer's step time with and without `WattwiseCallback`, interleaved (goal: < 1 % slower).

    .venv/bin/python benchmarks/integrations_overhead.py [--rounds 6] [--steps 40] [--json out.json]

Each round trains the same tiny GPT-2 (built from a config, CPU, no download) twice, once with the callback
(default meters, logging every step: the worst case) and once without, the order alternating between rounds.
A step's time is the wall time from one `on_step_begin` to the next, so it includes every callback's work on
that step; the first `--warmup` steps of each run (which include the one-off FLOP count per shape, reported
apart) are left out. Reported: the median and mean step time of each, their ratio (overall and per round),
and the time spent inside the callback's hooks per step (its own cost, immune to other load on the machine;
the sampler thread's meter reads, once per `interval_s`, run beside training and are not in it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: less sensitive to other load)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    os.environ.setdefault("WATTWISE_HOME", tempfile.mkdtemp(prefix="ww-bench-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.simplefilter("ignore")
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments
    from transformers.utils import logging as hf_logging
    from wattwise import display
    from wattwise.integrations.hf import WattwiseCallback
    hf_logging.set_verbosity_error()
    torch.set_num_threads(a.threads)

    from wattwise.integrations import _common

    spent = {"s": 0.0}                       # time inside the callback's hooks and its forward pre-hook
    hook = _common.ForwardFlops._hook

    def timed_hook(self, *args, **kw):
        t0 = time.perf_counter()
        try:
            return hook(self, *args, **kw)
        finally:
            spent["s"] += time.perf_counter() - t0
    _common.ForwardFlops._hook = timed_hook

    class Timed(WattwiseCallback):
        def on_step_end(self, *args, **kw):
            t0 = time.perf_counter()
            try:
                return super().on_step_end(*args, **kw)
            finally:
                spent["s"] += time.perf_counter() - t0

        def on_log(self, *args, **kw):
            t0 = time.perf_counter()
            try:
                return super().on_log(*args, **kw)
            finally:
                spent["s"] += time.perf_counter() - t0

    class Timer(TrainerCallback):
        def __init__(self):
            self.t, self.inside = [], []

        def on_step_begin(self, args, state, control, **kw):
            self.t.append(time.perf_counter())
            self.inside.append(spent["s"])

        def on_train_end(self, args, state, control, **kw):
            self.t.append(time.perf_counter())

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 1000, (a.batch * (a.steps + 1), a.seq), generator=g)
    data = [{"input_ids": x, "labels": x} for x in ids]

    def run(with_cb: bool, out: str):
        torch.manual_seed(0)
        model = GPT2LMHeadModel(GPT2Config(vocab_size=1000, n_embd=a.width, n_layer=4, n_head=4, n_positions=a.seq))
        timer = Timer()
        cbs = [timer] + ([Timed("bench", region="FR")] if with_cb else [])
        args = TrainingArguments(output_dir=out, max_steps=a.steps, per_device_train_batch_size=a.batch,
                                 logging_steps=1, save_strategy="no", report_to="none", use_cpu=True,
                                 disable_tqdm=True, dataloader_num_workers=0)
        Trainer(model=model, args=args, train_dataset=data, callbacks=cbs).train()
        dts = [b - c for c, b in zip(timer.t, timer.t[1:])][a.warmup:]
        inside = [b - c for c, b in zip(timer.inside, timer.inside[1:])][a.warmup:]
        return dts, (cbs[1].flops_count_s if with_cb else None), inside

    times = {True: [], False: []}
    count_s, inside_s = [], []
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        meds: dict = {}
        for r in range(a.rounds):
            for with_cb in ((True, False) if r % 2 == 0 else (False, True)):
                dts, c, inside = run(with_cb, os.path.join(tmp, f"r{r}-{with_cb}"))
                times[with_cb] += dts
                meds[with_cb] = statistics.median(dts)
                if c is not None:
                    count_s.append(c)
                    inside_s += inside
            ratios.append(meds[True] / meds[False])
            print(f"round {r + 1}/{a.rounds}: median step with {display.duration(meds[True])}, without "
                  f"{display.duration(meds[False])} (ratio {ratios[-1]:.3f})", file=sys.stderr)
    res = {"steps_per_run": a.steps, "rounds": a.rounds, "warmup_steps_dropped": a.warmup,
           "model": f"GPT-2 4 layers x {a.width}, seq {a.seq}, batch {a.batch}, CPU",
           "median_step_s_with": statistics.median(times[True]),
           "median_step_s_without": statistics.median(times[False]),
           "mean_step_s_with": statistics.fmean(times[True]), "mean_step_s_without": statistics.fmean(times[False]),
           "one_off_flop_count_s": statistics.median(count_s) if count_s else None}
    res["ratio_median"] = res["median_step_s_with"] / res["median_step_s_without"]
    res["ratio_per_round"] = ratios
    res["ratio_median_of_rounds"] = statistics.median(ratios)
    res["callback_s_per_step_median"] = statistics.median(inside_s)
    res["callback_s_per_step_max"] = max(inside_s)
    res["callback_share_of_step"] = res["callback_s_per_step_median"] / res["median_step_s_without"]
    res["ratio_mean"] = res["mean_step_s_with"] / res["mean_step_s_without"]
    print(f"step time with the callback {display.duration(res['median_step_s_with'])} (median), without "
          f"{display.duration(res['median_step_s_without'])}: ratio {res['ratio_median']:.4f} (mean ratio "
          f"{res['ratio_mean']:.4f}, median of per-round ratios {res['ratio_median_of_rounds']:.4f}); time inside "
          f"the callback {display.duration(res['callback_s_per_step_median'])} per step "
          f"({res['callback_share_of_step']:.3%} of a step); one-off FLOP count "
          f"{display.duration(res['one_off_flop_count_s'] or 0)}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
