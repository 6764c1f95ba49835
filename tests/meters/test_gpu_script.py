"""The GPU check script's paths that run without a GPU: graceful refusal, and the full path on the CPU with a
fake NVML (so the one real run on a lent GPU machine does not fail on a typo)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.meters.fakes import FakeNvml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "gpu_check_meters.py")


def load():
    spec = importlib.util.spec_from_file_location("gpu_check_meters", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_without_gpu_it_says_why_and_writes_json(tmp_path):
    pytest.importorskip("torch")
    env = dict(os.environ, OUT=str(tmp_path), CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, SCRIPT, "--seconds", "1"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "meters_gpu.json").read_text())
    assert summary["ok"] is False and "CUDA not available" in summary["reasons"][0]
    assert "ok: False" in out.stdout


def test_full_path_on_cpu_with_fake_nvml(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("WATTWISE_HOME", "/tmp/wattwise-test-home-unused")
    mod = load()
    s = mod.run_check(seconds=0.4, size=128, dtype="fp32", allow_cpu=True, nvml=FakeNvml(n=1, power_w=350.0),
                      interval_s=0.05)
    assert s["ok"] and s["device"] == "cpu" and s["matmuls"] > 0
    assert s["nvml_counter_energy_j"] == pytest.approx(350.0 * s["wall_s"], rel=0.3)
    assert s["nvml_sampled_energy_j"] == pytest.approx(350.0 * s["wall_s"], rel=0.3)
    assert s["power_fraction_of_tdp"] == pytest.approx(0.5, rel=0.3)     # 350 W of the H100 SXM's 700 W
    assert s["mfu"] == pytest.approx(s["achieved_flop_per_s"] / 6.7e13)  # fp32 dense peak, catalog
    assert s["catalog_gpu"] == "H100 SXM5 80GB"
