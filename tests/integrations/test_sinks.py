"""MLflow (local file store) and W&B (offline) sinks: per-step metrics, the card as an artifact, the summary."""

from __future__ import annotations

import glob
import json
import os
import time

import pytest

from wattwise.integrations._common import write_card
from wattwise.integrations.sinks import MlflowSink, WandbSink, log_every
from wattwise.tracker import Tracker

from .conftest import tracker_kwargs


def _tracked(tmp_path, sinks, steps=4):
    t = Tracker("sink-run", **tracker_kwargs(tmp_path))
    with t:
        for i in range(steps):
            t.step(flops=1e9, tokens=128)
            time.sleep(0.07)
            log_every(t, sinks, step=i)
    fp = t.footprint
    files = write_card(fp, tmp_path / "card")
    for s in sinks:
        s.finish(fp, files)
    return fp


def test_mlflow_file_store_run(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    uri = (tmp_path / "mlruns").as_uri()
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run() as run:
            sink = MlflowSink()
            fp = _tracked(tmp_path, [sink])
        client = mlflow.tracking.MlflowClient(uri)
        hist = client.get_metric_history(run.info.run_id, "wattwise/energy_kwh")
        assert {1, 2, 3} <= {m.step for m in hist} and all(m.value > 0 for m in hist)   # per step
        assert client.get_metric_history(run.info.run_id, "wattwise/mfu")
        r = client.get_run(run.info.run_id)
        assert r.data.tags["wattwise/run_id"] == fp.extra["run_id"]
        assert r.data.metrics["wattwise/co2e_kg"] == pytest.approx(float(fp.co2e_kg))
        arts = {a.path for a in client.list_artifacts(run.info.run_id, "wattwise")}
        assert {"wattwise/wattwise-card.md", "wattwise/wattwise-modelcard.md", "wattwise/footprint.json"} <= arts
        local = client.download_artifacts(run.info.run_id, "wattwise/footprint.json", str(tmp_path / "dl"))
        assert json.loads(open(local).read())["run_id"] == fp.extra["run_id"]
    finally:
        mlflow.set_tracking_uri(None) if hasattr(mlflow, "set_tracking_uri") else None


def test_wandb_offline_run_files_hold_the_metrics(tmp_path):
    wandb = pytest.importorskip("wandb")
    run = wandb.init(project="ww", mode="offline", dir=str(tmp_path / "wandb"))
    try:
        fp = _tracked(tmp_path, [WandbSink(run)])
    finally:
        run.finish()
    (run_dir,) = glob.glob(str(tmp_path / "wandb" / "wandb" / "offline-run-*"))
    # offline, the run's records (history rows, summary, artifact) are in the run's .wandb file (protobuf
    # records with JSON values); `wandb sync` would upload them as they are
    (data,) = glob.glob(os.path.join(run_dir, "*.wandb"))
    deadline = time.monotonic() + 20                  # the W&B core process may still be flushing the file
    while fp.extra["run_id"].encode() not in (blob := open(data, "rb").read()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for key in (b"wattwise/energy_kwh", b"wattwise/co2e_kg", b"wattwise/mfu", b"wattwise/tokens_per_s",
                b"wattwise-card"):
        assert key in blob, key
    assert fp.extra["run_id"].encode() in blob                       # the summary's run id
    assert blob.count(b"wattwise/energy_kwh") >= 4                    # one history row per step, and the summary


def test_a_broken_sink_is_one_warning(tmp_path):
    class Broken(MlflowSink):
        def _log(self, fp, step):
            raise RuntimeError("down")

    s = Broken()
    with pytest.warns(Warning, match="MlflowSink.log failed") as rec:
        t = Tracker("b", **tracker_kwargs(tmp_path))
        with t:
            for i in range(3):
                log_every(t, [s], i)
    assert len([w for w in rec if "MlflowSink.log" in str(w.message)]) == 1 and s.guard.failures["log"] == 3
