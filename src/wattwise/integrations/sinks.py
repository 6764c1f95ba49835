"""MLflow and Weights & Biases sinks: per-step wattwise metrics, the card as an artifact, the footprint in the
run summary. Both work offline (MLflow's local file store, W&B offline mode); neither makes a network call
of its own.

    sink = MlflowSink()                      # the active MLflow run (or run_id=..., tracking_uri=...)
    sink = WandbSink()                       # the active wandb run (or run=...)
    sink.log(tracker.reading(), step)        # wattwise/energy_kwh, wattwise/co2e_kg, wattwise/mfu, ...
    sink.finish(footprint, card_files)       # the card files as artifacts, the footprint in the summary

`log_every(tracker, sinks, step)` logs one reading to several sinks. Failures are one warning per sink and
hook; training never sees them. mlflow / wandb are imported on first use (`wattwise[integrations]`).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from ._common import Guard, metric_names, metrics


def _summary(fp) -> dict[str, Any]:
    """The footprint's values, flat (central and low/high), with run id, status and methods."""
    out: dict[str, Any] = metrics(fp, prefix="wattwise/", names="all")
    out["wattwise/run_id"] = fp.extra.get("run_id")
    out["wattwise/status"] = fp.extra.get("status")
    for q in ("energy_kwh", "co2e_kg", "cost_usd", "flops"):
        v = getattr(fp, q)
        if v is not None:
            out[f"wattwise/{q}_method"] = v.method
    return {k: v for k, v in out.items() if v is not None}


class MlflowSink:
    """Logs to an MLflow run: `run_id` (default: the active run at first use; one is started when none is
    active and `start=True`), with `tracking_uri` (default MLflow's own: `MLFLOW_TRACKING_URI`)."""

    def __init__(self, run_id: str | None = None, *, tracking_uri: str | None = None,
                 metrics: Sequence[str] | str | None = "all", start: bool = True, artifact_path: str = "wattwise"):
        self.run_id, self.tracking_uri = run_id, tracking_uri
        self.names = metric_names(metrics)
        self.start, self.artifact_path = start, artifact_path
        self.guard = Guard("MlflowSink")
        self._client = None
        self._step = 0

    def _ensure(self):
        import mlflow
        from mlflow.tracking import MlflowClient
        if self._client is None:
            self._client = MlflowClient(self.tracking_uri)
        if self.run_id is None:
            run = mlflow.active_run()
            if run is None and self.start:
                if self.tracking_uri:
                    mlflow.set_tracking_uri(self.tracking_uri)
                run = mlflow.start_run()
            self.run_id = run.info.run_id if run is not None else None
        return self._client

    def log(self, fp, step: int | None = None) -> None:
        self.guard("log", self._log, fp, step)

    def _log(self, fp, step):
        m = metrics(fp, names=self.names)
        if not m:
            return
        import time

        from mlflow.entities import Metric
        client = self._ensure()
        ts = int(time.time() * 1000)
        self._step = max(self._step, int(step or 0))
        client.log_batch(self.run_id, metrics=[Metric(k, v, ts, int(step or 0)) for k, v in m.items()])

    def finish(self, fp, files: Mapping[str, Any] | None = None) -> None:
        self.guard("finish", self._finish, fp, files or {})

    def _finish(self, fp, files):
        client = self._ensure()
        s = _summary(fp)
        for k, v in s.items():
            if isinstance(v, (int, float)):
                client.log_metric(self.run_id, k, float(v), step=self._step)   # the last step: the run's value
            else:
                client.set_tag(self.run_id, k, str(v))
        client.log_dict(self.run_id, fp.to_dict(), f"{self.artifact_path}/footprint.json")
        for p in files.values():
            client.log_artifact(self.run_id, str(p), artifact_path=self.artifact_path)


class WandbSink:
    """Logs to a W&B run (`run`, default `wandb.run` at first use; `wandb.init(**init_kwargs)` when none)."""

    def __init__(self, run=None, *, metrics: Sequence[str] | str | None = "all", init_kwargs: Mapping | None = None,
                 artifact_name: str = "wattwise-card"):
        self.run = run
        self.names = metric_names(metrics)
        self.init_kwargs = dict(init_kwargs or {})
        self.artifact_name = artifact_name
        self.guard = Guard("WandbSink")

    def _ensure(self):
        if self.run is None:
            import wandb
            self.run = wandb.run if wandb.run is not None else wandb.init(**self.init_kwargs)
        return self.run

    def log(self, fp, step: int | None = None) -> None:
        self.guard("log", self._log, fp, step)

    def _log(self, fp, step):
        m = metrics(fp, names=self.names)
        if m:
            run = self._ensure()
            run.log(m, step=step) if step is not None else run.log(m)

    def finish(self, fp, files: Mapping[str, Any] | None = None) -> None:
        self.guard("finish", self._finish, fp, files or {})

    def _finish(self, fp, files):
        import wandb
        run = self._ensure()
        for k, v in _summary(fp).items():
            run.summary[k] = v
        run.summary["wattwise/footprint"] = json.loads(json.dumps(fp.to_dict(), default=str))
        if files:
            art = wandb.Artifact(self.artifact_name, type="wattwise-card")
            for p in files.values():
                art.add_file(str(p))
            run.log_artifact(art)


def log_every(tracker, sinks: Sequence[Any], step: int | None = None) -> None:
    """Log the tracker's live reading (no I/O on the caller's path) to every sink."""
    fp = tracker.reading()
    for s in sinks:
        s.log(fp, step)


__all__ = ["MlflowSink", "WandbSink", "log_every"]
