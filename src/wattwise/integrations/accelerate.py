"""Hugging Face Accelerate: `WattwiseTracker`, a `GeneralTracker` for `Accelerator(log_with=[...])`, and the
helpers a custom loop needs (FLOPs per batch shape, tokens, the live values to log).

    ww = WattwiseTracker("my-run", region="FR", output_dir="out")
    accelerator = Accelerator(log_with=[ww])
    accelerator.init_trackers("my-project")          # starts the tracked run on every process
    model, opt, loader = accelerator.prepare(model, opt, loader)
    ww.watch(model, opt)                              # FLOPs counted once per batch shape
    for step, batch in enumerate(loader):
        loss = model(**batch).loss; accelerator.backward(loss); opt.step(); opt.zero_grad()
        ww.step(batch)                                # FLOPs and tokens of this step
        accelerator.log({"loss": loss.item(), **ww.metrics()}, step=step)
    accelerator.end_training()                        # stops the run, writes the card to output_dir

`main_process_only = False`: every process measures its own devices under one run id (each device counted
once, as the tracker does); the card is written by the main process. Values passed to `accelerator.log` are
kept as the run's last `metrics`. Never breaks the loop: a failure is one warning.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from accelerate.tracking import GeneralTracker

from ._common import (
    ForwardFlops,
    Guard,
    count_tokens,
    metric_names,
    run_footprint,
    summary_line,
    write_card,
)
from ._common import metrics as _metrics

log = logging.getLogger("wattwise")


class WattwiseTracker(GeneralTracker):
    """An Accelerate tracker that is a wattwise run (see the module docstring). Keywords other than those below
    go to `wattwise.Tracker` (project, tags, region, pue, ledger, meters, gpu, usd_per_kwh...).

    output_dir: where the card files go at `finish()` (None: none written). metrics: the names `metrics()`
    returns (default DEFAULT_METRICS). sinks: `MlflowSink` / `WandbSink` objects that get the card and the
    footprint at the end.
    """

    name = "wattwise"
    requires_logging_directory = False
    main_process_only = False

    def __init__(self, run_name: str | None = None, *, output_dir: Any = None,
                 metrics: Sequence[str] | str | None = None, sinks: Sequence[Any] = (),
                 training_type: str = "pre-training", **tracker_kwargs: Any):
        super().__init__()
        self.run_name = run_name
        self.output_dir = output_dir
        self.names = metric_names(metrics)
        self.sinks = list(sinks)
        self.training_type = training_type
        self.tracker_kwargs = tracker_kwargs
        self.guard = Guard("WattwiseTracker")
        self.footprint = None
        self.card_files: dict[str, Any] = {}
        self._tracker = None
        self._flops: ForwardFlops | None = None

    @property
    def tracker(self):
        """The `wattwise.Tracker` of the run (None before `start`)."""
        return self._tracker

    # --- GeneralTracker -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self.guard("start", self._start)

    def _start(self) -> None:
        from ..tracker import Tracker
        if self._tracker is not None and self._tracker._running:
            return
        self._tracker = Tracker(self.run_name, **self.tracker_kwargs)
        self._tracker.annotate(framework="accelerate")
        self._tracker.start()

    def store_init_configuration(self, values: dict) -> None:
        self.guard("store_init_configuration", self._ensure_started)
        if self._tracker is not None:
            self.guard("store_init_configuration", self._tracker.annotate, config=dict(values))

    def log(self, values: dict, step: int | None = None, **kwargs) -> None:
        if self._tracker is not None:
            plain = {k: v for k, v in values.items() if isinstance(v, (int, float, str, bool))
                     and not str(k).startswith("wattwise/")}
            if plain:
                self.guard("log", self._tracker.annotate, metrics=plain)

    def finish(self) -> None:
        self.guard("finish", self._finish)

    # --- the custom loop ----------------------------------------------------------------------------------------
    def watch(self, model, optimizer=None) -> "WattwiseTracker":
        """Count the training FLOPs of `model`'s forward calls once per input shape (meta tensors; the real
        weights untouched); `step()` then reports them. The model may be wrapped by `accelerator.prepare`."""
        def _watch():
            inner = getattr(model, "module", model)
            self._flops = ForwardFlops(inner, optimizer, fallback=getattr(inner, "floating_point_ops", None))
        self.guard("watch", _watch)
        return self

    def step(self, batch: Any = None, *, flops: float | None = None, tokens: float | None = None,
             n: int = 1) -> None:
        """One optimizer step: its FLOPs (given, else those `watch` counted for the forward calls since the last
        step) and tokens (given, else `input_ids` elements of `batch`, else the watched forwards')."""
        self.guard("step", self._step, batch, flops, tokens, n)

    def _step(self, batch, flops, tokens, n) -> None:
        self._ensure_started()
        if self._flops is not None:
            f, t = self._flops.take(optimizer_step=True)
            flops = f if flops is None else flops
            tokens = tokens if tokens is not None else (count_tokens(batch) if batch is not None else None) or t
        elif tokens is None and batch is not None:
            tokens = count_tokens(batch)
        self._tracker.step(flops=flops, n=n, tokens=tokens)

    def metrics(self) -> dict[str, float]:
        """The live values (`wattwise/energy_kwh`, ...) to pass to `accelerator.log`; {} before start."""
        out = self.guard("metrics", lambda: _metrics(self._tracker.reading() if self._tracker else None,
                                                       names=self.names))
        return out or {}

    def reading(self):
        return self._tracker.reading() if self._tracker is not None else None

    # --- end ----------------------------------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._tracker is None:
            self._start()

    def _finish(self) -> None:
        t = self._tracker
        if t is None or not t._running:
            return
        if self._flops is not None:
            if self._flops.flops.method:
                t.annotate(flops_method=self._flops.flops.method, flops_basis=self._flops.flops.basis)
            self._flops.close()
            self._flops = None
        t.stop("ok")
        self.footprint = run_footprint(t) or t.footprint
        if t.rank == 0 and self.footprint is not None:
            if self.output_dir:
                self.card_files = write_card(self.footprint, self.output_dir, title=t.name,
                                             training_type=self.training_type)
            for s in self.sinks:
                self.guard(f"sink {type(s).__name__}", s.finish, self.footprint, self.card_files)
            log.info(summary_line(self.footprint))


def track_loop(accelerator, run_name: str | None = None, **kwargs: Any) -> WattwiseTracker:
    """For a loop whose Accelerator was made without `log_with`: a started `WattwiseTracker` that
    `accelerator.end_training()` stops (it is added to `accelerator.trackers`)."""
    ww = WattwiseTracker(run_name, **kwargs)
    ww.start()
    accelerator.trackers.append(ww)
    return ww


__all__ = ["WattwiseTracker", "track_loop"]
