"""The Prometheus endpoint, scraped over loopback: counters rise and end at the run's recorded totals."""

import time
import urllib.request

import pytest

pytest.importorskip("prometheus_client")

from wattwise import prometheus  # noqa: E402
from wattwise.ledger import Ledger  # noqa: E402
from wattwise.meters.base import Reading  # noqa: E402
from wattwise.tracker import Tracker  # noqa: E402


class Meter:
    name, component, kind, source = "fake", "gpu", "measured", "test meter"

    def start(self):
        self.t0 = time.monotonic()

    def read(self):
        e = 200.0 * (time.monotonic() - self.t0)
        return [Reading("h/gpu/0", "gpu", e, e, e, label="H100"), Reading("h/gpu/1", "gpu", e / 2, e / 2, e / 2,
                                                                          label="H100")]

    def close(self):
        pass


def scrape(url):
    from prometheus_client.parser import text_string_to_metric_families
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def total(m, name):
    return sum(v for _, v in m.get(name, []))


def test_scraped_counters_rise_and_match_the_run_total(tmp_path):
    t = Tracker("prom", ledger=str(tmp_path / "l.db"), meters=[Meter()], interval_s=0.05, region="FR",
                flops_per_step=1e12)
    t.start()
    with prometheus.serve(t, 0) as ex:
        time.sleep(0.3)
        t.step()
        time.sleep(0.2)   # the reading is as of the sampler's last meter read
        a = scrape(ex.url)
        time.sleep(0.3)
        t.step()
        time.sleep(0.2)
        b = scrape(ex.url)
        assert total(b, "wattwise_energy_joules_total") > total(a, "wattwise_energy_joules_total") > 0
        assert total(b, "wattwise_co2e_grams_total") > total(a, "wattwise_co2e_grams_total") > 0
        assert total(b, "wattwise_flops_total") == 2e12
        labels = {tuple(sorted(lab.items())) for lab, _ in b["wattwise_energy_joules_total"]}
        assert {dict(x)["device"] for x in labels} == {"h/gpu/0", "h/gpu/1"}
        assert {dict(x)["run"] for x in labels} == {t.run_id}
        assert b["wattwise_power_watts"][0][1] == pytest.approx(300.0, rel=0.3)
        t.stop()
        c = scrape(ex.url)
    with Ledger(tmp_path / "l.db") as led:
        rec = led.run(t.run_id)
    assert total(c, "wattwise_energy_joules_total") == pytest.approx(rec["it_energy_kwh"] * 3.6e6)
    assert total(c, "wattwise_co2e_grams_total") == pytest.approx(rec["co2e_kg"] * 1000.0)
    assert total(c, "wattwise_facility_energy_joules_total") == pytest.approx(rec["energy_kwh"] * 3.6e6)


def test_serve_ledger_exposes_the_recorded_runs(target):
    from .test_write_volume import CTX, part
    with Ledger(target) as led:
        led.write_part("r", CTX, dict(part(2.0), updated_ts=time.time()))
        rec = led.run("r")
    with prometheus.serve_ledger(target, 0) as ex:
        m = scrape(ex.url)
    assert total(m, "wattwise_energy_joules_total") == pytest.approx(rec["it_energy_kwh"] * 3.6e6)
    assert {lab["run"] for lab, _ in m["wattwise_energy_joules_total"]} == {"r"}
