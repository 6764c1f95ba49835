"""Tracker(prometheus_port=...) serves the run's counters while it runs, and stops serving at stop."""

import time
import urllib.request

import pytest

from tests.meters.fakes import StepGpuMeter
from wattwise.tracker import Tracker

pytest.importorskip("prometheus_client")


def test_the_endpoint_rises_while_the_tracker_runs(tmp_path):
    t = Tracker("prom", ledger=tmp_path / "l.db", meters=[StepGpuMeter()], interval_s=0.05, prometheus_port=0).start()
    try:
        time.sleep(0.3)
        url = f"http://127.0.0.1:{t._exporter.port}/metrics"
        first = urllib.request.urlopen(url, timeout=10).read().decode()
        time.sleep(0.3)
        second = urllib.request.urlopen(url, timeout=10).read().decode()
    finally:
        t.stop()
    assert "wattwise_energy_joules_total" in first

    def joules(text):
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("wattwise_energy_joules_total{"))
    assert joules(second) > joules(first) > 0
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)
