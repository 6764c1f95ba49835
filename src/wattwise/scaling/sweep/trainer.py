"""One sweep run: train a tiny decoder-only transformer on CPU for the planned tokens, then measure its held-out loss.

`train` is the bare training (torch); `execute` wraps it in one `Tracker` block, so the run, its counted FLOPs,
its measured energy and its final held-out loss land in the ledger as one record under the sweep's run id.
Training follows Hoffmann et al. 2022, Sec. 3 and App. B at toy scale: AdamW, linear warm-up, then a cosine
decay to `min_lr_frac` of the peak over exactly the run's length (a cosine cycle matched to the tokens).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from typing import Any, Callable

from .planner import RunSpec

RESULT_KEY = "sweep_result"   # context key of the ledger record that holds the run's outcome
SPEC_KEY = "sweep"            # context key that holds the run's spec
TAG = "scaling-sweep"


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        from ...errors import MissingExtraError

        raise MissingExtraError("torch", "torch") from None
    return torch


def _init_weights(model, torch) -> None:
    """GPT-2 initialisation: N(0, 0.02) weights, zero biases (Radford et al. 2019; keeps tied logits small)."""
    for m in model.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Embedding)):
            torch.nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if getattr(m, "bias", None) is not None:
                torch.nn.init.zeros_(m.bias)


def lr_at(step: int, spec: RunSpec) -> float:
    """Linear warm-up, then cosine from the peak to min_lr_frac x peak at the last step."""
    if step < spec.warmup_steps:
        return spec.lr * (step + 1) / spec.warmup_steps
    span = max(1, spec.steps - spec.warmup_steps)
    t = min(1.0, (step - spec.warmup_steps) / span)
    return spec.lr * (spec.min_lr_frac + (1 - spec.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def evaluate(model, heldout, spec: RunSpec, torch) -> dict:
    """Mean next-token cross-entropy (nats per token) over the first `eval_tokens` of the held-out split, in
    non-overlapping windows of seq_len (the same windows for every run)."""
    import numpy as np

    T = spec.seq_len
    n_win = max(1, min(spec.eval_tokens // T, (heldout.size - 1) // T))
    idx = np.arange(n_win)[:, None] * T + np.arange(T + 1)[None, :]
    data = torch.from_numpy(heldout[idx])
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for lo in range(0, n_win, 64):
            xb = data[lo:lo + 64]
            logits = model(xb[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), xb[:, 1:].reshape(-1),
                                                     reduction="sum")
            total += float(loss)
            count += xb[:, 1:].numel()
    model.train()
    return {"loss": total / count, "eval_tokens": count,
            "eval_flops": float(spec.training_flops_per_token) / 3.0 * count}


def train(spec: RunSpec, *, on_step: Callable[[int, float], None] | None = None) -> dict:
    """Train the run's model for spec.steps steps and return its held-out loss and training statistics."""
    import numpy as np

    from ...flops import build_model
    from .data import cached_corpus

    torch = _torch()
    torch.set_num_threads(max(1, spec.threads))
    corpus = cached_corpus(spec.data, spec.level, spec.heldout_fraction, spec.seed)
    torch.manual_seed(spec.seed)
    model = build_model(spec.shape(), device="cpu")
    _init_weights(model, torch)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": spec.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=spec.lr, betas=(0.9, 0.95))
    train_ids = torch.from_numpy(corpus.train)
    rng = np.random.default_rng(spec.seed)  # same batches, in the same order, for every run of the sweep
    T, B = spec.seq_len, spec.batch_size
    offsets = torch.arange(T + 1)
    flops_per_step = float(spec.training_flops_per_token) * B * T
    t0 = time.perf_counter()
    losses = []
    for step in range(spec.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, spec)
        starts = torch.from_numpy(rng.integers(0, train_ids.numel() - T - 1, size=B))
        xb = train_ids[starts[:, None] + offsets[None, :]]
        logits = model(xb[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), xb[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, flops_per_step)
    train_s = time.perf_counter() - t0
    ev = evaluate(model, corpus.heldout, spec, torch)
    tail = losses[-max(1, len(losses) // 10):]
    return {"loss": ev["loss"], "loss_bits_per_token": ev["loss"] / math.log(2), "eval_tokens": ev["eval_tokens"],
            "eval_flops": ev["eval_flops"], "train_loss_tail": float(np.mean(tail)),
            "diverged": not math.isfinite(ev["loss"]), "train_s": train_s, "steps": spec.steps,
            "tokens": spec.tokens, "flops_counted": spec.flops_counted, "flops_6nd": spec.flops_6nd,
            "torch_threads": torch.get_num_threads()}


def _annotate(tracker, result: dict) -> None:
    """Put the outcome into the record the tracker writes at stop, so the ledger row is whole in one write."""
    tracker.annotate(**{RESULT_KEY: result})


def _ensure_result(ledger, run_id: str, result: dict) -> dict:
    """Read the record back; if the tracker did not carry the outcome into it, rewrite it with the outcome."""
    rec = ledger.run(run_id)
    if RESULT_KEY not in rec["context"]:
        ctx = dict(rec["context"], **{RESULT_KEY: result})
        for part in ledger.parts(run_id):
            ledger.write_part(run_id, ctx, part)
        rec = ledger.run(run_id)
    return rec


def execute(spec: RunSpec, ledger_path: str | None, tracker_opts: dict | None = None, *,
            send_back: bool = False, on_step: Callable[[int, float], None] | None = None) -> dict:
    """Train `spec` inside one Tracker block recorded under run id `spec.run_id`.

    send_back=False: the record goes to the ledger at `ledger_path` (shared by every worker of this machine).
    send_back=True: it goes to a private temporary ledger and its parts come back in the returned payload, for the
    driver to write (a cluster node need not see the driver's disk). Returns {"run_id", "result"[, "parts", "ctx"]}.
    """
    from ...ledger import Ledger
    from ...tracker import Tracker

    opts = dict(tracker_opts or {})
    tmp = tempfile.mkdtemp(prefix="wattwise-sweep-") if send_back else None
    led = Ledger(os.path.join(tmp, "ledger.db") if tmp else ledger_path)
    try:
        tracker = Tracker(f"sweep {spec.sweep_id} {spec.key}", project=opts.pop("project", None) or "scaling-sweep",
                          tags=[TAG, f"sweep:{spec.sweep_id}"], ledger=led, run_id=spec.run_id,
                          extra={SPEC_KEY: spec.to_dict()}, **opts)

        def step(i: int, flops: float) -> None:
            tracker.step(flops=flops)
            if on_step is not None:
                on_step(i, flops)

        with tracker:
            result = train(spec, on_step=step)
            _annotate(tracker, result)
        rec = _ensure_result(led, spec.run_id, result)
        payload: dict[str, Any] = {"run_id": spec.run_id, "result": result, "status": rec["status"]}
        if send_back:
            payload["parts"] = led.parts(spec.run_id)
            payload["ctx"] = rec["context"]
        return payload
    finally:
        led.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def write_back(ledger, payload: dict) -> None:
    """Driver side of send_back: write a worker's parts into the driver's ledger (one transaction per part)."""
    for part in payload["parts"]:
        ledger.write_part(payload["run_id"], payload["ctx"], part)
