import os

import pytest

from tests.meters.fakes import make_powercap, write
from wattwise.meters import MeterUnavailable
from wattwise.meters import rapl
from wattwise.meters.rapl import RaplMeter


def test_package_energy_is_the_counter_delta(tmp_path):
    root = make_powercap(str(tmp_path / "pc"), packages=2)
    m = RaplMeter("package", root, host="h")
    m.start()
    write(os.path.join(root, "intel-rapl:0"), "energy_uj", 1_000_000 + 5_000_000)
    write(os.path.join(root, "intel-rapl:1"), "energy_uj", 1_000_000 + 2_500_000)
    readings = {r.device: r for r in m.read()}
    assert set(readings) == {"h/rapl/package-0", "h/rapl/package-1"}
    assert readings["h/rapl/package-0"].energy_j == pytest.approx(5.0)
    assert readings["h/rapl/package-1"].energy_j == pytest.approx(2.5)
    r = readings["h/rapl/package-0"]
    assert r.kind == "measured" and r.component == "cpu" and r.low_j < r.energy_j < r.high_j


def test_counter_wrap_around_uses_max_energy_range(tmp_path):
    root = make_powercap(str(tmp_path / "pc"), energy_uj=990, max_uj=1000)
    m = RaplMeter("package", root)
    m.start()
    pkg = os.path.join(root, "intel-rapl:0")
    write(pkg, "energy_uj", 995)
    assert m.read()[0].energy_j == pytest.approx(5e-6)
    write(pkg, "energy_uj", 15)  # wrapped: 995 -> 1000 -> 15
    assert m.read()[0].energy_j == pytest.approx(25e-6)
    write(pkg, "energy_uj", 500)
    assert m.read()[0].energy_j == pytest.approx(510e-6)


def test_dram_domain_is_memory_and_core_is_not_counted(tmp_path):
    root = make_powercap(str(tmp_path / "pc"))
    m = RaplMeter("dram", root, host="h")
    m.start()
    write(os.path.join(root, "intel-rapl:0", "intel-rapl:0:1"), "energy_uj", 3_000_000)
    write(os.path.join(root, "intel-rapl:0", "intel-rapl:0:0"), "energy_uj", 9_000_000)  # core: ignored
    (r,) = m.read()
    assert r.component == "memory" and r.device == "h/rapl/package-0/dram"
    assert r.energy_j == pytest.approx(2.0)


def test_no_dram_zone_is_unavailable(tmp_path):
    root = make_powercap(str(tmp_path / "pc"), dram=False)
    with pytest.raises(MeterUnavailable, match="no readable dram"):
        RaplMeter("dram", root).start()


def test_missing_powercap_says_why(tmp_path):
    with pytest.raises(MeterUnavailable, match="does not exist"):
        RaplMeter("package", str(tmp_path / "nothing")).start()


def test_permission_denied_gives_the_exact_fix(tmp_path, monkeypatch):
    root = make_powercap(str(tmp_path / "pc"), packages=2)
    real = rapl._read_int

    def denied(path):  # tests run as root, where chmod 000 would not deny anything
        if path.endswith("energy_uj"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(rapl, "_read_int", denied)
    with pytest.raises(MeterUnavailable) as e:
        RaplMeter("package", root).start()
    msg = str(e.value)
    expected = ("sudo chmod a+r " + os.path.realpath(os.path.join(root, "intel-rapl:0", "energy_uj")) + " "
                + os.path.realpath(os.path.join(root, "intel-rapl:1", "energy_uj")))
    assert expected in msg and "CVE-2020-8694" in msg


def test_read_error_mid_run_raises_for_the_tracker_to_fall_back(tmp_path):
    root = make_powercap(str(tmp_path / "pc"))
    m = RaplMeter("package", root)
    m.start()
    os.remove(os.path.join(root, "intel-rapl:0", "energy_uj"))
    with pytest.raises(OSError):
        m.read()


def test_real_machine_rapl_is_readable_or_explained():
    m = RaplMeter("package")
    try:
        m.start()
    except MeterUnavailable as e:  # this CI machine: no powercap
        assert "RAPL" in str(e)
    else:
        assert all(r.energy_j >= 0 for r in m.read())
