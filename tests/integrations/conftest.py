"""Shared set-up of the integration tests: an isolated wattwise home, W&B offline, no network, tiny models."""

from __future__ import annotations

import os
import threading

import pytest

from wattwise.meters.base import Reading


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    for k in ("WATTWISE_REGION", "WATTWISE_PUE", "WATTWISE_CONFIG", "WATTWISE_RUN_ID", "RANK", "WORLD_SIZE",
              "LOCAL_RANK", "WATTWISE_INTERVAL", "MLFLOW_TRACKING_URI", "WANDB_API_KEY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("DISABLE_MLFLOW_INTEGRATION", "TRUE")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")   # MLflow 3 refuses the local file store otherwise


class RampMeter:
    """A GPU meter whose energy grows 50 J per read (deterministic, no hardware); `fail_after` reads, it raises."""

    name, component, kind, source = "ramp", "gpu", "measured", "constructed by the test"

    def __init__(self, fail_after: int | None = None, device: str = "testhost/gpu/GPU-test-0"):
        self.fail_after = fail_after
        self.reads = 0
        self.device = device
        self._lock = threading.Lock()

    def start(self):
        pass

    def read(self):
        with self._lock:
            self.reads += 1
            if self.fail_after is not None and self.reads > self.fail_after:
                raise OSError("meter unplugged by the test")
            e = 50.0 * self.reads
        return [Reading(self.device, "gpu", e, 0.9 * e, 1.1 * e, label="NVIDIA H100 80GB HBM3")]

    def close(self):
        pass


class FlatCpuMeter:
    """A CPU meter that counts 10 J per read (the fallback a failing GPU meter does not have)."""

    name, component, kind, source = "flat-cpu", "cpu", "estimated", "constructed by the test"

    def __init__(self):
        self.reads = 0

    def start(self):
        pass

    def read(self):
        self.reads += 1
        e = 10.0 * self.reads
        return [Reading("testhost/cpu/0", "cpu", e, 0.5 * e, 1.5 * e, label="test CPU")]

    def close(self):
        pass


def tracker_kwargs(tmp_path, **kw):
    """Tracker settings of the tests: a ledger under tmp_path, constructed meters, a known zone and price."""
    out = dict(ledger=tmp_path / "ledger.db", meters=[RampMeter(), FlatCpuMeter()], interval_s=0.05, region="FR",
               pue=1.2, usd_per_kwh=0.25, gpu="H100 SXM")
    out.update(kw)
    return out


def offline_env():
    return {k: os.environ.get(k) for k in ("WANDB_MODE", "HF_HUB_OFFLINE")}


@pytest.fixture(autouse=True)
def no_tracker_left_running():
    """Every tracker a test starts is stopped by the end of it (its signal handler is gone)."""
    import signal
    before = signal.getsignal(signal.SIGTERM)
    yield
    assert signal.getsignal(signal.SIGTERM) is before, "a tracker was left running"


@pytest.fixture(autouse=True)
def mlflow_state_reset():
    """MLflow keeps the tracking URI, the active experiment and runs in globals: reset them after each test."""
    yield
    import sys
    for k in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_TRACKING_URI"):
        os.environ.pop(k, None)             # set by MLflow or its Trainer callback outside monkeypatch
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    try:
        while mlflow.active_run() is not None:
            mlflow.end_run()
    except Exception:  # noqa: BLE001
        pass
    try:
        from mlflow.tracking import fluent
        fluent._active_experiment_id = None
    except Exception:  # noqa: BLE001
        pass
    try:
        from mlflow.tracking._tracking_service import utils
        utils._tracking_uri = None
    except Exception:  # noqa: BLE001
        pass
