"""Prometheus metrics of tracked runs (`pip install 'wattwise[prometheus]'`: prometheus-client).

- `serve(tracker, port)`: a pull endpoint (http://addr:port/metrics) for one live Tracker, read at each scrape
  from `tracker.reading()` and its latest meter snapshot (no I/O on the training path).
- `push(tracker, gateway, job)`: the same metrics sent to a Pushgateway (batch jobs: call at checkpoints or at the
  end; `push_every(tracker, gateway, job, every_s)` does it from a daemon thread).
- `serve_ledger(ledger, port)`: `wattwise serve-metrics`: the runs of a ledger (running ones and those updated
  in the last `recent_s`), read at each scrape.

Metrics (counters only rise: they are the runs' cumulative readings):
  wattwise_energy_joules_total{run,host,component,device}   IT energy per metered device
  wattwise_facility_energy_joules_total{run,host}            x PUE
  wattwise_co2e_grams_total{run,host}                        facility energy x grid intensity
  wattwise_flops_total{run,host}                             FLOPs reported to the run
  wattwise_power_watts{run,host,component}                   mean power since the previous scrape (gauge)
  wattwise_mfu_ratio{run,host}                               model FLOPs utilisation so far (gauge)
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

J_PER_KWH = 3.6e6


def _client():
    try:
        import prometheus_client
    except ImportError:
        from .errors import WattwiseError
        raise WattwiseError("Prometheus metrics need prometheus-client: pip install 'wattwise[prometheus]'") \
            from None
    return prometheus_client


class _Power:
    """Mean power per (run, host, component) between two scrapes, from the cumulative energy."""

    def __init__(self):
        self._last: dict[tuple, tuple[float, float]] = {}

    def watts(self, key: tuple, energy_j: float, t: float) -> float | None:
        prev = self._last.get(key)
        self._last[key] = (t, energy_j)
        if prev is None or t <= prev[0]:
            return None
        return max(0.0, (energy_j - prev[1]) / (t - prev[0]))


def _families(prom):
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
    return {
        "energy": CounterMetricFamily("wattwise_energy_joules", "IT energy per metered device (J)",
                                      labels=["run", "host", "component", "device"]),
        "facility": CounterMetricFamily("wattwise_facility_energy_joules", "Facility energy: IT energy x PUE (J)",
                                        labels=["run", "host"]),
        "co2e": CounterMetricFamily("wattwise_co2e_grams", "CO2e of the facility energy (g)", labels=["run", "host"]),
        "flops": CounterMetricFamily("wattwise_flops", "FLOPs reported to the run", labels=["run", "host"]),
        "power": GaugeMetricFamily("wattwise_power_watts", "Mean IT power since the previous scrape (W)",
                                   labels=["run", "host", "component"]),
        "mfu": GaugeMetricFamily("wattwise_mfu_ratio", "Model FLOPs utilisation so far", labels=["run", "host"]),
    }


def _add_run(fam: dict, power: _Power, run: str, host: str, devices: dict[str, dict], fp, t: float) -> None:
    comp: dict[str, float] = {}
    for dev, r in sorted(devices.items()):
        fam["energy"].add_metric([run, host, r["component"], dev], float(r["energy_j"]))
        comp[r["component"]] = comp.get(r["component"], 0.0) + float(r["energy_j"])
    for c, e in comp.items():
        w = power.watts((run, host, c), e, t)
        if w is not None:
            fam["power"].add_metric([run, host, c], w)
    if fp is None:
        return
    if fp.energy_kwh is not None:
        fam["facility"].add_metric([run, host], float(fp.energy_kwh) * J_PER_KWH)
    if fp.co2e_kg is not None:
        fam["co2e"].add_metric([run, host], float(fp.co2e_kg) * 1000.0)
    fam["flops"].add_metric([run, host], float(fp.flops) if fp.flops is not None else 0.0)
    if fp.mfu is not None:
        fam["mfu"].add_metric([run, host], float(fp.mfu))


class TrackerCollector:
    """A prometheus_client collector of one Tracker's live reading."""

    def __init__(self, tracker):
        self.tracker = tracker
        self._power = _Power()

    def collect(self):
        prom = _client()
        fam = _families(prom)
        t = self.tracker
        fp = t.reading()
        snap = getattr(t, "_snap", None)
        readings = list(getattr(snap, "readings", ()) or ())
        if t.run_id is not None:
            from .measured import merge_devices
            devices = merge_devices([{"readings": readings}])
            _add_run(fam, self._power, t.run_id, socket.gethostname(), devices, fp,
                     getattr(snap, "t_mono", None) or time.monotonic())
        yield from fam.values()


class LedgerCollector:
    """A prometheus_client collector of a ledger's running and recent runs."""

    def __init__(self, ledger, recent_s: float = 3600.0):
        self.ledger, self.recent_s = ledger, recent_s
        self._power = _Power()

    def collect(self):
        from .ledger import Ledger, to_footprint
        from .measured import merge_devices
        prom = _client()
        fam = _families(prom)
        now = time.time()
        own = not isinstance(self.ledger, Ledger)
        led = Ledger(self.ledger, create=False) if own else self.ledger
        try:
            for rec in led.runs():
                if rec["status"] != "running" and (rec.get("updated_ts") or 0) < now - self.recent_s:
                    continue
                parts = led.parts(rec["id"])
                devices = merge_devices(parts)
                _add_run(fam, self._power, rec["id"], rec.get("host") or "", devices, to_footprint(rec),
                         rec.get("updated_ts") or now)
        finally:
            if own:
                led.close()
        yield from fam.values()


class Exporter:
    """A running metrics endpoint: `.port`, `.url`, `.close()`."""

    def __init__(self, collector, port: int = 0, addr: str = "127.0.0.1"):
        prom = _client()
        self.registry = prom.CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        out = prom.start_http_server(port, addr=addr, registry=self.registry)
        self._server, self._thread = out if isinstance(out, tuple) else (out, None)
        self.port = self._server.server_port
        self.url = f"http://{addr}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def serve(tracker, port: int = 0, addr: str = "127.0.0.1") -> Exporter:
    """Expose `tracker`'s metrics at http://addr:port/metrics (port 0: a free one; see `.port`)."""
    return Exporter(TrackerCollector(tracker), port, addr)


def serve_ledger(ledger: Any = None, port: int = 9464, addr: str = "127.0.0.1",
                 recent_s: float = 3600.0) -> Exporter:
    """Expose the running and recent runs of a ledger (a path, a postgresql:// URL, an open Ledger)."""
    from .ledger import resolve_target
    return Exporter(LedgerCollector(ledger if ledger is not None else resolve_target(None), recent_s), port, addr)


def push(tracker, gateway: str, job: str = "wattwise", grouping_key: dict | None = None) -> None:
    """Send `tracker`'s metrics to a Prometheus Pushgateway (replacing this job's group)."""
    prom = _client()
    registry = prom.CollectorRegistry(auto_describe=False)
    registry.register(TrackerCollector(tracker))
    prom.push_to_gateway(gateway, job=job, registry=registry,
                         grouping_key=grouping_key or {"run": tracker.run_id or "", "host": socket.gethostname()})


def push_every(tracker, gateway: str, job: str = "wattwise", every_s: float = 15.0) -> threading.Event:
    """Push from a daemon thread every `every_s` and once more when the tracker has stopped; set the returned
    event to end it early. Push errors are ignored (the job goes on)."""
    stop = threading.Event()

    def loop():
        while not stop.wait(every_s):
            try:
                push(tracker, gateway, job)
            except Exception:  # noqa: BLE001
                pass
            if tracker.status not in (None, "running"):
                break
        try:
            push(tracker, gateway, job)
        except Exception:  # noqa: BLE001
            pass
    threading.Thread(target=loop, name="wattwise-pushgateway", daemon=True).start()
    return stop
