"""Faults in real processes, on both backends: SIGKILL mid-run loses at most one interval; a PostgreSQL server
stopped for 10 s mid-run and restarted loses nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from wattwise.ledger import Ledger

CHILD = textwrap.dedent("""
    import sys, time
    from wattwise.meters.base import Reading
    from wattwise.tracker import Tracker

    W = 100.0   # watts: energy follows the clock

    class Meter:
        name, component, kind, source = "fake", "gpu", "measured", "test meter"
        def start(self):
            self.t0 = time.monotonic()
        def read(self):
            e = W * (time.monotonic() - self.t0)
            return [Reading("node/gpu/0", "gpu", e, e, e, label="fake GPU")]
        def close(self):
            pass

    target, interval, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    t = Tracker("fault", ledger=target, meters=[Meter()], interval_s=interval, region="FR", run_id="fault-run")
    t.start()
    print("started", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.01)
    fp = t.stop()
    print("energy_j", float(fp.energy_by_component_kwh["gpu"]) * 3.6e6, flush=True)
""")


def _child(tmp_path, target, interval, seconds):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(os.getcwd(), "src"), os.environ.get(
        "PYTHONPATH", "")]))
    p = subprocess.Popen([sys.executable, str(script), target, str(interval), str(seconds)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "started"
    return p


def test_sigkill_mid_run_loses_at_most_one_interval(target, tmp_path):
    interval = 0.2
    p = _child(tmp_path, target, interval, 60)
    time.sleep(2.0)
    with Ledger(target) as led:   # wait for a few checkpoints
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(led.samples("fault-run")) < 5:
            time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    killed = time.time()
    p.wait(10)
    with Ledger(target) as led:
        rec = led.run("fault-run")
        part = led.parts("fault-run")[0]
        assert rec["status"] == "lost"
        lived = killed - part["start_ts"]
        recorded_j = rec["energy_gpu_kwh"] * 3.6e6
        # at most one interval (plus the scheduling slack of a loaded 2-core machine) is missing
        assert recorded_j >= 100.0 * (lived - interval - 0.5), (recorded_j, lived)
        assert recorded_j <= 100.0 * lived + 1.0


def test_postgres_server_stopped_for_ten_seconds_loses_nothing(pg_server, pg_url, tmp_path):
    interval = 0.1
    p = _child(tmp_path, pg_url, interval, 14)
    time.sleep(1.5)
    pg_server.stop()
    stopped = time.time()
    time.sleep(10)
    pg_server.start()
    restarted = time.time()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    final_j = float(out.split("energy_j")[1].split()[0])
    with Ledger(pg_url) as led:
        rec = led.run("fault-run")
        assert rec["status"] == "ok"
        assert rec["energy_gpu_kwh"] * 3.6e6 == pytest.approx(final_j)
        ts = [s["t_s"] for s in led.samples("fault-run")]
    start = led.parts if False else None  # noqa: F841
    # samples were taken (and queued) while the server was down, and every one reached the ledger
    t0 = rec["start_ts"]
    during = [t for t in ts if stopped - t0 + 0.5 < t < restarted - t0 - 0.5]
    assert len(during) >= 0.5 * (restarted - stopped - 1) / interval, (len(during), len(ts))
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    assert max(gaps) < 1.0, max(gaps)
    assert "could not write" not in err


def test_postgres_server_down_when_the_run_starts_is_spooled_and_flushed_later(pg_server, pg_url, tmp_path,
                                                                            monkeypatch):
    import warnings

    from wattwise.meters.base import Reading
    from wattwise.tracker import Tracker

    class Meter:
        name, component, kind, source = "fake", "gpu", "measured", "test meter"

        def __init__(self):
            self.e = 0.0

        def start(self):
            pass

        def read(self):
            self.e += 50.0
            return [Reading("node/gpu/0", "gpu", self.e, self.e, self.e, label="fake GPU")]

        def close(self):
            pass

    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    pg_server.stop()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Tracker("down-at-start", ledger=pg_url, meters=[Meter()], interval_s=0.2, deadline_s=1.0) as t:
                time.sleep(0.5)
    finally:
        pg_server.start()
    with Ledger(pg_url) as led:                         # the next writer flushes the spool
        rec = led.run(t.run_id)
    assert rec["status"] == "ok" and rec["energy_kwh"] == pytest.approx(t.footprint.energy_kwh)


def test_report_reads_a_postgresql_ledger(pg_url, tmp_path, monkeypatch):
    from wattwise.meters.base import Reading
    from wattwise.report import build_card
    from wattwise.tracker import Tracker

    class Meter:
        name, component, kind, source = "fake", "gpu", "measured", "test meter"

        def start(self):
            pass

        def read(self):
            return [Reading("node/gpu/0", "gpu", 100.0, 100.0, 100.0, label="fake GPU")]

        def close(self):
            pass

    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    with Tracker("pg-card", project="pg", ledger=pg_url, meters=[Meter()], interval_s=10):
        pass
    card = build_card(ledger=pg_url, project="pg")
    assert [r.name for r in card.runs] == ["pg-card"]
