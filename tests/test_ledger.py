import hashlib
import json
import multiprocessing as mp
import os
import socket
import sqlite3
import time

import pytest

from wattwise import ledger as ledger_mod
from wattwise import ledger_schema
from wattwise.ledger import Ledger, LedgerError, aggregate, default_path, to_footprint

CTX = {"name": "n", "project": "p", "tags": ["a", "b"], "pue": {"low": 1.1, "central": 1.2, "high": 1.5},
       "intensity_g_per_kwh": {"low": 100.0, "central": 400.0, "high": 500.0}, "interval_s": 0.1,
       "price": {"per": "gpu_hour", "low": 1.0, "central": 2.0, "high": 4.0}, "peak_flop_per_s": 1e15}


def reading(device, component="gpu", e=3.6e6, kind="measured", label="H100"):
    return {"device": device, "component": component, "energy_j": e, "low_j": e * 0.9, "high_j": e * 1.1,
            "kind": kind, "label": label}


def part(rank=0, readings=(), status="ok", start=1000.0, end=4600.0, flops=None, pid=None, host="h"):
    return {"rank": rank, "host": host, "pid": pid or os.getpid(), "status": status, "start_ts": start,
            "end_ts": end, "updated_ts": end or start, "flops": flops, "steps": 1, "readings": list(readings),
            "info": {"interval_s": 0.1}}


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_new_ledger_has_schema_wal_and_application_id(tmp_path):
    p = tmp_path / "sub" / "l.db"
    Ledger(p).close()
    con = sqlite3.connect(p)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == ledger_mod.SCHEMA_VERSION
    assert con.execute("PRAGMA application_id").fetchone()[0] == ledger_mod.APPLICATION_ID
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "run_parts", "samples"} <= tables


def test_default_path_follows_wattwise_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "ledger.db"
    monkeypatch.delenv("WATTWISE_HOME")
    assert default_path().parts[-2:] == (".wattwise", "ledger.db")


def test_run_totals_energy_co2e_cost_mfu(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("r1", CTX, part(readings=[reading("h/gpu/A")], flops=3.6e17),
                       {"t_s": 1.0, "energy_gpu_j": 3.6e6})
        r = led.run("r1")
        assert r["status"] == "ok" and r["tags"] == ["a", "b"] and r["world_size"] == 1
        assert r["it_energy_kwh"] == pytest.approx(1.0)
        assert r["energy_kwh"] == pytest.approx(1.2)                          # x PUE
        assert (r["energy_kwh_low"], r["energy_kwh_high"]) == pytest.approx((0.9 * 1.1, 1.1 * 1.5))
        assert r["co2e_kg"] == pytest.approx(1.2 * 400 / 1000)
        assert r["gpu_hours"] == pytest.approx(1.0) and r["cost_usd"] == pytest.approx(2.0)
        assert r["flop_per_s"] == pytest.approx(1e14) and r["mfu"] == pytest.approx(0.1)
        assert r["hardware"] == "1 x H100"
        assert led.samples("r1") == [{"rank": 0, "t_s": 1.0, "energy_gpu_j": 3.6e6, "energy_cpu_j": None,
                                      "energy_memory_j": None, "flops": None}]
        fp = to_footprint(r)
        assert fp.method == "measured" and fp.energy_kwh == pytest.approx(1.2)
        assert fp.energy_by_component_kwh["gpu"].central == pytest.approx(1.0)
        assert fp.low.co2e_kg < fp.co2e_kg < fp.high.co2e_kg
        assert fp.extra["run_id"] == "r1" and fp.zone is None


def test_a_device_seen_by_two_ranks_counts_once(tmp_path):
    shared = [reading("h/gpu/A"), reading("h/rapl/package-0", "cpu", 7.2e5, label="pkg")]
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("d", CTX, part(0, shared + [reading("h/pid/1/cpu", "cpu", 3.6e5, "estimated")]))
        led.write_part("d", CTX, part(1, [dict(shared[0], energy_j=3.0e6, low_j=2.9e6, high_j=3.1e6), shared[1],
                                          reading("h/pid/2/cpu", "cpu", 3.6e5, "estimated")]))
        r = led.run("d")
    assert r["world_size"] == 2
    assert r["energy_gpu_kwh"] == pytest.approx(1.0)          # max of the two views of GPU A, not the sum
    assert r["energy_cpu_kwh"] == pytest.approx(0.2 + 0.1 + 0.1)  # package once + each process's estimate
    assert r["provenance"]["components"]["cpu"].startswith("mixed") or "estimated" in str(r["provenance"])


def test_statuses_combine_and_dead_running_parts_are_lost(tmp_path):
    dead = subprocess_pid_that_exited()
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("a", CTX, part(0, status="ok"))
        led.write_part("a", CTX, part(1, status="failed"))
        assert led.run("a")["status"] == "failed"
        here = socket.gethostname()
        led.write_part("k", CTX, part(0, status="running", end=None, pid=dead, start=time.time(), host=here))
        assert led.run("k")["status"] == "lost"
        led.write_part("live", CTX, part(0, status="running", end=None, start=time.time(), host=here))
        assert led.run("live")["status"] == "running"
        led.write_part("far", CTX, part(0, status="running", end=None, start=time.time() - 3600, host="elsewhere"))
        assert led.run("far")["status"] == "lost"  # silent for an hour on another host


def subprocess_pid_that_exited():
    import subprocess
    import sys
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_filters_prefix_and_unknown_id(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("run-aaa", dict(CTX, project="x", tags=["t1"]), part())
        led.write_part("run-bbb", dict(CTX, project="y", tags=["t2"]), part())
        assert [r["id"] for r in led.runs(project="x")] == ["run-aaa"]
        assert [r["id"] for r in led.runs(tag="t2")] == ["run-bbb"]
        assert [r["id"] for r in led.runs(ids=["run-bbb"])] == ["run-bbb"]
        assert led.run("run-a")["id"] == "run-aaa"
        with pytest.raises(LedgerError, match="no run 'run-zzz'"):
            led.run("run-zzz")


def test_garbage_file_is_refused_and_left_untouched(tmp_path):
    p = tmp_path / "l.db"
    p.write_bytes(b"this is my thesis, not a database\n" * 100)
    before = sha(p)
    with pytest.raises(LedgerError, match="not a wattwise ledger"):
        Ledger(p)
    assert sha(p) == before


def test_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path):
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE photos (id INTEGER, path TEXT)")
    con.execute("INSERT INTO photos VALUES (1, 'a.jpg')")
    con.commit()
    con.close()
    before = sha(p)
    with pytest.raises(LedgerError, match="another application.*photos"):
        Ledger(p)
    assert sha(p) == before


def test_corrupt_ledger_gives_a_clear_error(tmp_path):
    p = tmp_path / "l.db"
    with Ledger(p) as led:
        led.write_part("r", CTX, part())
    con = sqlite3.connect(p)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(p.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # smash the schema page, keep the header
    p.write_bytes(bytes(data))
    before = sha(p)
    with pytest.raises(LedgerError, match=str(p.name)):
        Ledger(p).runs()
    assert sha(p) == before


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "l.db"
    Ledger(p).close()
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version=99")
    con.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(p)


def test_migration_upgrades_an_old_ledger_in_place(tmp_path, monkeypatch):
    p = tmp_path / "l.db"
    with Ledger(p) as led:
        led.write_part("old", CTX, part())
    nxt = ledger_mod.SCHEMA_VERSION + 1
    monkeypatch.setattr(ledger_schema, "SCHEMA_VERSION", nxt)   # the schema lives in wattwise.ledger_schema
    monkeypatch.setitem(ledger_schema.MIGRATIONS, nxt, "ALTER TABLE runs ADD COLUMN notes TEXT")
    with Ledger(p) as led:
        assert led.run("old")["notes"] is None  # kept its data, gained the column
    assert sqlite3.connect(p).execute("PRAGMA user_version").fetchone()[0] == nxt


def test_schema_1_ledger_upgrades_to_2_and_its_runs_keep_their_footprint(tmp_path):
    """A ledger written by wattwise 0.1 (schema 1: no stored footprint, no windows) opens, migrates, and its
    runs read back with the totals their columns held."""
    p = tmp_path / "v1.db"
    con = sqlite3.connect(p)
    con.executescript(ledger_mod.MIGRATIONS[1])
    con.execute(f"PRAGMA application_id={ledger_mod.APPLICATION_ID}")
    con.execute("PRAGMA user_version=1")
    prov = {"components": {"gpu": "measured"}, "ranges": {
        "energy_kwh": {"low": 1.0, "central": 1.2, "high": 1.5}, "co2e_kg": {"low": 0.0, "central": 0.48, "high": 0.75},
        "it_energy_kwh": {"low": 1.0, "central": 1.0, "high": 1.0},
        "energy_by_component_kwh": {"gpu": {"low": 1.0, "central": 1.0, "high": 1.0}}},
        "sources": {"energy_gpu": "nvml"}, "parts": [], "warnings": []}
    con.execute("INSERT INTO runs (id, status, start_ts, end_ts, duration_s, gpu_hours, flops, provenance, context) "
                "VALUES ('r1', 'ok', 1000, 4600, 3600, 1.0, 5e15, ?, '{}')", (json.dumps(prov),))
    con.commit()
    con.close()
    with Ledger(p) as led:
        fp = to_footprint(led.run("r1"))
        assert led.windows("r1") == []
    assert fp.energy_kwh == 1.2 and fp.low.co2e_kg == 0.0 and fp.gpu_hours == 1.0 and fp.flops == 5e15
    assert fp.energy_by_component_kwh["gpu"] == 1.0 and fp.sources["energy_gpu"] == "measured: nvml"
    assert sqlite3.connect(p).execute("PRAGMA user_version").fetchone()[0] == ledger_mod.SCHEMA_VERSION


def test_run_row_stores_the_footprint_it_indexes(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("r", CTX, part(readings=[reading("h/gpu/0")], flops=1e15))
        rec = led.run("r")
    fp = to_footprint(rec)
    assert rec["footprint"]["co2e_kg"] == rec["co2e_kg"] == pytest.approx(float(fp.co2e_kg))
    assert fp.energy_kwh.range.as_tuple() == pytest.approx((rec["energy_kwh_low"], rec["energy_kwh"],
                                                            rec["energy_kwh_high"]))
    assert fp.energy_kwh.method == "measured" and fp.gpu_hours.method == "measured"
    assert fp.extra["run_id"] == "r" and fp.extra["status"] == "ok"


def test_windows_are_recorded_under_their_run(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("r", CTX, part(readings=[reading("h/gpu/0")]))
        led.write_window("r", {"name": "epoch-1", "rank": 0, "start_ts": 1.0, "end_ts": 2.0,
                               "footprint": {"energy_kwh": 0.5}})
        led.write_window("r", {"name": "epoch-0", "start_ts": 0.5, "end_ts": 1.0, "status": "open at stop",
                               "footprint": {}})
        ws = led.windows("r")
        assert [w["name"] for w in ws] == ["epoch-0", "epoch-1"] and ws[0]["status"] == "open at stop"
        assert ws[1]["footprint"]["energy_kwh"] == 0.5
        led.delete("r")
        assert led.count() == 0


def test_aggregate_without_location_or_price_leaves_them_missing():
    cols = aggregate([part(readings=[reading("h/pid/1/cpu", "cpu", 3.6e6, "estimated")])], {})
    assert cols["energy_kwh"] == pytest.approx(1.0) and cols["co2e_kg"] is None and cols["cost_usd"] is None
    assert cols["provenance"]["components"] == {"cpu": "estimated"}


def _writer(path, worker, n):
    led = Ledger(path)
    for i in range(n):
        led.write_part(f"w{worker}-{i}", CTX, part(readings=[reading(f"h/pid/{worker}/cpu", "cpu", 1.0)]),
                       {"t_s": 0.0, "energy_cpu_j": 1.0})
    led.close()


def test_eight_processes_two_hundred_runs_each_all_present(tmp_path):
    path = str(tmp_path / "l.db")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, w, 200)) for w in range(8)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    elapsed = time.monotonic() - t0
    assert [p.exitcode for p in procs] == [0] * 8
    with Ledger(path) as led:
        assert led.count() == 1600
        ids = {r["id"] for r in led.runs()}
    assert ids == {f"w{w}-{i}" for w in range(8) for i in range(200)}
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM samples").fetchone()[0] == 1600
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    print(f"1600 concurrent run writes from 8 processes in {elapsed:.2f} s")


def test_ledger_gives_footprints_that_carry_their_run_inputs(tmp_path):
    ctx = dict(CTX, accuracy=0.93, flops_method="counted", location_known=True)
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("abc123", ctx, part(readings=[reading("h/gpu/0")], flops=2e15))
        fp = led.footprint("abc")
        assert [f.extra["run_id"] for f in led.footprints(project="p")] == ["abc123"]
    assert fp.inputs["price"]["per"] == "gpu_hour" and fp.inputs["peak_flop_per_s"] == 1e15
    assert fp.inputs["accuracy"] == 0.93 and fp.flops.method == "counted"
    assert fp.cost_usd.range.as_tuple() == pytest.approx((1.0, 2.0, 4.0))  # 1 GPU-hour x 1-2-4 USD
