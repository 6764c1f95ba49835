"""PyTorch Lightning: `WattwiseCallback` measures a fit as one tracked run, and a resumed fit continues it.

    from wattwise.integrations.lightning import WattwiseCallback
    trainer = L.Trainer(max_epochs=3, callbacks=[WattwiseCallback(region="FR")])
    trainer.fit(model, loader)          # pl_module.log_dict(wattwise/energy_kwh, wattwise/co2e_kg, ...)

- `on_fit_start` starts the run on every rank (ranks share the run id, devices counted once); a fit resumed
  from a checkpoint (`ckpt_path=`) waits for the callback state, then starts after the restore.
- FLOPs: the forward calls of the LightningModule (or `flops_module=`) in training are counted once per input
  shape with `wattwise.flops.count_flops` on meta tensors (forward + backward, plus one optimizer step per
  optimizer step); tokens are the element count of `input_ids` when the forward gets one.
- `on_train_batch_end`: `tracker.step(...)`, and every `log_every_n_steps` batches the live reading's values
  through `pl_module.log_dict` (on_step, rank zero), so every Lightning logger sees them.
- `on_fit_end`: the card files in `output_dir` (default `trainer.default_root_dir`) on global rank zero;
  `on_exception`: the run ends 'failed' ('interrupted' for KeyboardInterrupt and Lightning's SIGTERM; the
  tracker leaves SIGTERM to Lightning: `handle_signals=False` unless given).
- The state (run id and this rank's cumulative part) is saved in checkpoints. A fit resumed from one continues
  the same run id: the new process's part adds the earlier energy per device, FLOPs, steps and tokens (from the
  ledger's record of the earlier process when there is one: everything it measured, including work after the
  checkpoint that the resume redoes; else from the checkpoint) and the run's wall-clock is the sum of the
  processes' active times (the pause between them is not counted). Windows and the ledger's samples stay per
  process.

Needs `wattwise[integrations]` (lightning); imported only from `wattwise.integrations.lightning`.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the standalone package
    from pytorch_lightning.callbacks import Callback  # type: ignore[no-redef]

from ._common import (
    ForwardFlops,
    Guard,
    continued_tracker,
    metric_names,
    metrics,
    run_footprint,
    summary_line,
    write_card,
)
from ._resume import previous_part, tracker_state

log = logging.getLogger("wattwise")
STATE_VERSION = 1


class WattwiseCallback(Callback):
    """Measure a Lightning fit (see the module docstring).

    name, project, tags and every other keyword (region, pue, interval_s, ledger, meters, gpu, usd_per_kwh...)
    go to `wattwise.Tracker`. count_flops: count training FLOPs per input shape (False: MFU unknown);
    flops_module: the module whose forward is counted (default the LightningModule). metrics: what is logged
    (names of `wattwise.integrations.METRICS` or "all"; default DEFAULT_METRICS); prog_bar: show them in the
    progress bar. output_dir: where the card files go (None: `trainer.default_root_dir`; False: no files).
    sinks: `MlflowSink` / `WandbSink` objects that get the card and the footprint at the end.
    """

    def __init__(self, name: str | None = None, *, project: str | None = None, tags: Sequence[str] = (),
                 count_flops: bool = True, flops_module=None, metrics: Sequence[str] | str | None = None,
                 prog_bar: bool = False, output_dir: Any = None, training_type: str = "pre-training",
                 sinks: Sequence[Any] = (), **tracker_kwargs: Any):
        self.name, self.project, self.tags = name, project, tags
        self.count_flops, self.flops_module = count_flops, flops_module
        self.metrics = metric_names(metrics)
        self.prog_bar = prog_bar
        self.output_dir = output_dir
        self.training_type = training_type
        self.sinks = list(sinks)
        # Lightning handles SIGTERM itself (it raises in the fit, and on_exception ends the run 'interrupted');
        # the tracker's own handler would be restored out of order by Lightning's teardown
        tracker_kwargs.setdefault("handle_signals", False)
        self.tracker_kwargs = tracker_kwargs
        self.tracker = None
        self.footprint = None
        self.card_files: dict[str, Any] = {}
        self.guard = Guard("WattwiseCallback")
        self.resumed_from: dict | None = None      # the state a checkpoint gave
        self._flops: ForwardFlops | None = None
        self._opt_steps = 0

    @property
    def state_key(self) -> str:
        return f"WattwiseCallback[{self.name}]" if self.name else "WattwiseCallback"

    @property
    def run_id(self) -> str | None:
        return self.tracker.run_id if self.tracker is not None else (self.resumed_from or {}).get("run_id")

    # --- checkpoint state ---------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        out = self.guard("state_dict", self._state)
        return out if out is not None else {}

    def _state(self) -> dict:
        return tracker_state(self.tracker, self.resumed_from)

    def load_state_dict(self, state_dict: dict) -> None:
        if state_dict and state_dict.get("run_id"):
            self.resumed_from = dict(state_dict)

    # --- Lightning hooks ----------------------------------------------------------------------------------------
    def on_fit_start(self, trainer, pl_module) -> None:
        if getattr(trainer, "ckpt_path", None) and self.resumed_from is None:
            return                              # the callback state comes after setup: start in on_train_start
        self.guard("on_fit_start", self._begin, trainer, pl_module)

    def on_train_start(self, trainer, pl_module) -> None:
        if self.tracker is None or not self.tracker._running:
            self.guard("on_train_start", self._begin, trainer, pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.tracker is not None:
            self.guard("on_train_batch_end", self._batch_end, trainer, pl_module)

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.tracker is not None:
            self.guard("on_fit_end", self._end, trainer, "ok", None)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if self.tracker is not None:
            status = ("interrupted" if isinstance(exception, KeyboardInterrupt)
                      or type(exception).__name__ == "SIGTERMException" else "failed")
            self.guard("on_exception", self._end, trainer, status, f"{type(exception).__name__}: {exception}")

    # --- work ---------------------------------------------------------------------------------------------------
    def _previous_part(self) -> dict | None:
        return previous_part(self.resumed_from, self.tracker_kwargs)

    def _begin(self, trainer, pl_module) -> None:
        if self.tracker is not None and self.tracker._running:
            return
        prev = self._previous_part()
        kw = dict(self.tracker_kwargs)
        if self.resumed_from:
            kw["run_id"] = self.resumed_from["run_id"]
        self.footprint, self.card_files = None, {}
        self.tracker = continued_tracker(prev, name=self.name or type(pl_module).__name__, project=self.project,
                                         tags=self.tags, **kw)
        self.tracker.annotate(framework="lightning")
        if prev:
            self.tracker.annotate(resumed=True)
        self.tracker.start()
        self._opt_steps = trainer.global_step
        if self.count_flops:
            opt = trainer.optimizers[0] if getattr(trainer, "optimizers", None) else None
            self._flops = ForwardFlops(self.flops_module or pl_module, opt)

    def _batch_end(self, trainer, pl_module) -> None:
        flops = tokens = None
        if self._flops is not None:
            stepped = trainer.global_step != self._opt_steps
            self._opt_steps = trainer.global_step
            flops, tokens = self._flops.take(optimizer_step=stepped)
        self.tracker.step(flops=flops, tokens=tokens)
        every = max(1, int(getattr(trainer, "log_every_n_steps", 1) or 1))
        if trainer.global_step % every == 0 or every == 1:
            m = metrics(self.tracker.reading(), names=self.metrics)
            if m:
                pl_module.log_dict(m, on_step=True, on_epoch=False, prog_bar=self.prog_bar, logger=True,
                                   rank_zero_only=True, batch_size=1)

    def _end(self, trainer, status: str, error: str | None) -> None:
        t = self.tracker
        if self._flops is not None:
            if self._flops.flops.method:
                t.annotate(flops_method=self._flops.flops.method, flops_basis=self._flops.flops.basis)
            self._flops.close()
            self._flops = None
        if not t._running:
            return
        t.stop(status, error)
        self.footprint = run_footprint(t) or t.footprint
        if trainer.is_global_zero and self.footprint is not None:
            out = trainer.default_root_dir if self.output_dir is None else self.output_dir
            if out is not False and out:
                self.card_files = write_card(self.footprint, out, title=t.name, training_type=self.training_type)
            for s in self.sinks:
                self.guard(f"sink {type(s).__name__}", s.finish, self.footprint, self.card_files)
            log.info(summary_line(self.footprint))


__all__ = ["WattwiseCallback"]
