"""Hugging Face `transformers.Trainer`: `WattwiseCallback` measures training as one tracked run.

    from wattwise.integrations.hf import WattwiseCallback
    trainer = Trainer(model=model, args=args, train_dataset=ds, callbacks=[WattwiseCallback(region="FR")])
    trainer.train()        # logs carry wattwise/energy_kwh, wattwise/co2e_kg, wattwise/mfu...; cards in output_dir

- A run from `on_train_begin` to `on_train_end` on every rank (ranks share the run id; each device counted
  once, as the tracker does).
- Training FLOPs counted once per step shape with `wattwise.flops.count_flops` on meta tensors (no memory, no
  arithmetic, weights and random state untouched); when that fails, the model's `floating_point_ops` (6ND),
  labelled as such. MFU is then live (it needs a GPU meter and the GPU's catalog peak).
- `on_log`: the live reading's values (`wattwise.integrations.METRICS`, prefixed `wattwise/`) added to `logs`
  and the log history. The callback moves itself to the front of the Trainer's callbacks at train begin, so
  W&B, MLflow and TensorBoard see them (W&B's callback names them `train/wattwise/...`).
- `on_train_end` (world process zero): the efficiency card (`wattwise-card.md`, `.json`), the model-card block
  (`wattwise-modelcard.md`) and the footprint (`wattwise-footprint.json`) written to `args.output_dir`; the
  `co2_eq_emissions` metadata merged into `output_dir/README.md` when it exists, and into the card the Trainer
  writes later (`trainer.create_model_card()`).
- Never breaks training: any failure is one warning (`TrackerWarning`) and the run goes on unmeasured.

Needs `wattwise[integrations]` (transformers); imported only from `wattwise.integrations.hf`.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Sequence

from transformers import TrainerCallback

from ._common import (
    ForwardFlops,
    Guard,
    merge_model_card,
    metric_names,
    metrics,
    run_footprint,
    summary_line,
    write_card,
)
from ._resume import continued_tracker, previous_part, tracker_state

try:  # transformers >= 4.41: callbacks whose state() the Trainer saves in every checkpoint's trainer_state.json
    from transformers.trainer_callback import ExportableState
except ImportError:  # pragma: no cover
    class ExportableState:  # type: ignore[no-redef]
        pass

log = logging.getLogger("wattwise")


class WattwiseCallback(TrainerCallback, ExportableState):
    """Measure a `transformers.Trainer` run (see the module docstring).

    name: the run's name (default `args.run_name`); project, tags and every other keyword (region, pue,
      interval_s, ledger, meters, gpu, dtype, usd_per_kwh, usd_per_gpu_hour...) go to `wattwise.Tracker`.
    count_flops: count training FLOPs per step shape (True) or not (False; MFU is then unknown).
    write_card: write the card files to `args.output_dir` at the end.
    training_type: the model card's `training_type` ('pre-training' or 'fine-tuning'); default: 'fine-tuning'
      for a model loaded from a checkpoint (`name_or_path` set), else 'pre-training'.
    metrics: the values added to `logs` (names of `wattwise.integrations.METRICS`, "all"; default
      DEFAULT_METRICS: energy_kwh, co2e_kg, cost_usd, mfu, flop_per_s, tokens_per_s, j_per_token).
    sinks: `MlflowSink` / `WandbSink` objects that get the card as an artifact and the footprint in the run
      summary at the end (per-step values already reach them through the Trainer's `report_to`).
    """

    def __init__(self, name: str | None = None, *, project: str | None = None, tags: Sequence[str] = (),
                 count_flops: bool = True, write_card: bool = True, training_type: str | None = None,
                 sinks: Sequence[Any] = (), metrics: Sequence[str] | str | None = None, **tracker_kwargs: Any):
        self.name, self.project, self.tags = name, project, tags
        self.count_flops = count_flops
        self.write_card = write_card
        self.training_type = training_type
        self.sinks = list(sinks)
        self.metrics = metric_names(metrics)
        self.tracker_kwargs = tracker_kwargs
        self.tracker = None
        self.footprint = None
        self.card_files: dict[str, Any] = {}
        self.guard = Guard("WattwiseCallback")
        self._flops: ForwardFlops | None = None
        self._flops_cache: dict = {}
        self.flops_count_s = 0.0           # time spent counting FLOPs (once per step shape)
        self._trainer = None
        self._last_step = -1
        self.resumed_from: dict | None = None

    # --- checkpoint state (the Trainer saves it in trainer_state.json; read back at train begin) -------------
    def state(self) -> dict:
        """For the Trainer's checkpoints: the run id and this rank's totals so far, so that
        `trainer.train(resume_from_checkpoint=...)` continues the same run. Leave
        `restore_callback_states_from_checkpoint` off: the callback reads this itself at train begin."""
        saved = self.guard("state", tracker_state, self.tracker, self.resumed_from)
        return {"args": {}, "attributes": {"wattwise_resume": saved or {}}}

    # --- Trainer events ---------------------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self.guard("on_train_begin", self._begin, args, state, model, optimizer)

    def on_step_end(self, args, state, control, **kwargs):
        if self.tracker is not None:
            self.guard("on_step_end", self._step, state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.tracker is not None and logs is not None:
            self.guard("on_log", self._log, state, logs)

    def on_train_end(self, args, state, control, **kwargs):
        if self.tracker is not None:
            self.guard("on_train_end", self._end, args, state)

    # --- work ---------------------------------------------------------------------------------------------------
    def _begin(self, args, state, model, optimizer) -> None:
        if self.tracker is not None and self.tracker._running:    # a second train() on the same callback
            self._end(args, state)
        self.footprint, self.card_files = None, {}
        saved = _saved_state(state) if getattr(state, "global_step", 0) else None   # resumed from a checkpoint
        self.resumed_from = saved
        prev = previous_part(saved, self.tracker_kwargs)
        kw = dict(self.tracker_kwargs)
        if saved:
            kw["run_id"] = saved["run_id"]
        self.tracker = continued_tracker(prev, name=self.name or getattr(args, "run_name", None),
                                         project=self.project, tags=self.tags, **kw)
        self.tracker.annotate(framework="transformers", output_dir=str(args.output_dir))
        if prev:
            self.tracker.annotate(resumed=True)
        self.tracker.start()
        self._trainer = _find_trainer(self)
        if self._trainer is not None:
            self._attach(self._trainer)
        if self.training_type is None:
            self.training_type = "fine-tuning" if getattr(model, "name_or_path", "") else "pre-training"
        if self.count_flops and model is not None:
            fallback = getattr(model, "floating_point_ops", None)
            self._flops = ForwardFlops(model, optimizer, fallback=fallback)

    def _attach(self, trainer) -> None:
        """Run first among the Trainer's callbacks (reporters then see our values) and put the CO2 metadata in
        the model card the Trainer writes."""
        cbs = trainer.callback_handler.callbacks
        if self in cbs and cbs[0] is not self:
            cbs.remove(self)
            cbs.insert(0, self)
        orig = trainer.create_model_card
        if getattr(orig, "_wattwise", False):
            return

        def create_model_card(*a, **kw):
            out = orig(*a, **kw)
            fp = self.footprint or (self.tracker.reading() if self.tracker is not None else None)
            if fp is not None and trainer.is_world_process_zero():
                self.guard("create_model_card", merge_model_card, os.path.join(trainer.args.output_dir, "README.md"),
                           fp, self.training_type or "pre-training")
            return out
        create_model_card._wattwise = True
        trainer.create_model_card = create_model_card

    def _step(self, state) -> None:
        flops = tokens = None
        if self._flops is not None:
            flops, tokens = self._flops.take(optimizer_step=True)
        self.tracker.step(flops=flops, tokens=tokens)
        if self._flops is not None and self._flops.flops.method and state.global_step <= 1:
            self.tracker.annotate(flops_method=self._flops.flops.method, flops_basis=self._flops.flops.basis)

    def _log(self, state, logs: dict) -> None:
        m = metrics(self.tracker.reading(), names=self.metrics)
        logs.update(m)
        hist = state.log_history
        if hist and all(hist[-1].get(k) == v for k, v in logs.items() if k not in m):
            hist[-1].update(m)

    def _end(self, args, state) -> None:
        t = self.tracker
        if self._flops is not None:
            if self._flops.flops.method:
                t.annotate(flops_method=self._flops.flops.method, flops_basis=self._flops.flops.basis)
            self._flops_cache = dict(self._flops.flops.cache)
            self.flops_count_s = self._flops.flops.count_s
            self._flops.close()
            self._flops = None
        t.stop("ok")
        self.footprint = run_footprint(t) or t.footprint
        if state.is_world_process_zero and self.footprint is not None:
            if self.write_card and args.output_dir:
                self.card_files = write_card(self.footprint, args.output_dir, title=t.name,
                                             training_type=self.training_type or "pre-training")
                merge_model_card(os.path.join(args.output_dir, "README.md"), self.footprint,
                                 self.training_type or "pre-training")
            for s in self.sinks:
                self.guard(f"sink {type(s).__name__}", s.finish, self.footprint, self.card_files)
            log.info(summary_line(self.footprint))


def attach(trainer, callback: WattwiseCallback | None = None, **kwargs: Any) -> WattwiseCallback:
    """Add `callback` (or `WattwiseCallback(**kwargs)`) to `trainer` as its first callback; returns it."""
    cb = callback or WattwiseCallback(**kwargs)
    trainer.callback_handler.callbacks.insert(0, cb)
    cb._attach(trainer)
    return cb


def _find_trainer(cb):
    """The `transformers.Trainer` whose callback handler is calling `cb` (found on the call stack), or None."""
    from transformers import Trainer
    f = sys._getframe(1)
    for _ in range(40):
        if f is None:
            return None
        obj = f.f_locals.get("self")
        if isinstance(obj, Trainer) and cb in obj.callback_handler.callbacks:
            return obj
        f = f.f_back
    return None


__all__ = ["WattwiseCallback", "attach"]


def _saved_state(state) -> dict | None:
    """This callback's state in a resumed Trainer's `state.stateful_callbacks`, if a checkpoint saved one."""
    entry = (getattr(state, "stateful_callbacks", None) or {}).get("WattwiseCallback")
    if isinstance(entry, list):
        entry = entry[0] if entry else None
    saved = ((entry or {}).get("attributes") or {}).get("wattwise_resume") if isinstance(entry, dict) else None
    return dict(saved) if saved and saved.get("run_id") else None
