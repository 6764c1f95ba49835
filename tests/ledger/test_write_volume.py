"""Schema 3: checkpoints write only the part and its sample; readers see what a full write would store; a
schema-2 ledger migrates in place."""

import json
import os
import sqlite3

import pytest

from wattwise import ledger as ledger_mod
from wattwise.ledger import Ledger, to_footprint

CTX = {"name": "n", "project": "p", "tags": ["a"], "pue": {"low": 1.1, "central": 1.2, "high": 1.5},
       "intensity_g_per_kwh": {"low": 100.0, "central": 400.0, "high": 500.0}, "interval_s": 1.0,
       "price": {"per": "gpu_hour", "low": 1.0, "central": 2.0, "high": 4.0}, "peak_flop_per_s": 1e15,
       "sources": {"pue": "x" * 600, "intensity": "y" * 600}}


def part(t, rank=0, status="running", host="h", pid=4242):
    e = 1000.0 * t
    return {"rank": rank, "host": host, "pid": pid, "status": status, "start_ts": 1000.0,
            "end_ts": 1000.0 + t if status != "running" else None, "updated_ts": 1000.0 + t, "flops": 1e12 * t,
            "steps": int(t), "readings": [{"device": f"{host}/gpu/{rank}", "component": "gpu", "energy_j": e,
                                           "low_j": 0.95 * e, "high_j": 1.05 * e, "kind": "measured",
                                           "label": "H100"}],
            "info": {"interval_s": 1.0, "world_size": 1, "elapsed_s": t, "sources": {"energy_gpu": "nvml " * 50}}}


def sample(t):
    return {"t_s": t, "energy_gpu_j": 1000.0 * t, "flops": 1e12 * t}


def wchar():
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    pytest.skip("no /proc/self/io wchar here")


def test_a_checkpoint_writes_under_16_kb(tmp_path):
    wchar()
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("r", CTX, part(0.0), sample(0.0))
        n = 100
        w0 = wchar()
        for i in range(1, n + 1):
            led.write_part("r", CTX, part(i * 0.2), sample(i * 0.2))
        per = (wchar() - w0) / n
        assert per < 16 * 1024, f"{per:.0f} bytes per checkpoint"
        assert len(led.samples("r")) == n + 1


def records(led):
    out = []
    for r in led.runs():
        r = dict(r)
        out.append(r)
    return out


@pytest.mark.parametrize("status", ["running", "ok"])
def test_readers_see_what_a_full_write_stores(tmp_path, monkeypatch, status):
    """The same checkpoints, once with light checkpoints and once with a full write every time."""
    def write(path):
        with Ledger(path) as led:
            for i in range(12):
                led.write_part("r", CTX, part(i * 0.5), sample(i * 0.5))
                led.write_part("r", CTX, part(i * 0.5, rank=1, host="g"), sample(i * 0.5))
            if status == "ok":
                led.write_part("r", CTX, part(6.0, status="ok"))
            return led.runs(), led.run("r"), led.footprint("r").to_dict(), led.samples("r"), led.parts("r")
    light = write(tmp_path / "light.db")
    monkeypatch.setattr(ledger_mod, "FULL_EVERY_S", 0.0)
    full = write(tmp_path / "full.db")
    assert light == full
    rec = light[1]
    last0 = 6.0 if status == "ok" else 5.5
    assert rec["energy_gpu_kwh"] == pytest.approx((last0 + 5.5) * 1000.0 / 3.6e6)
    assert rec["updated_ts"] == 1000.0 + last0
    con = sqlite3.connect(tmp_path / "light.db")
    stored = con.execute("SELECT updated_ts FROM runs").fetchone()[0]
    if status == "running":   # the stored totals were not rewritten at every checkpoint
        assert stored < 1005.5


def test_context_change_is_written_at_once(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        led.write_part("r", CTX, part(0.0))
        led.write_part("r", dict(CTX, accuracy=0.9), part(0.5))
        assert led.run("r")["context"]["accuracy"] == 0.9
        assert to_footprint(led.run("r")).inputs["accuracy"] == 0.9


def test_replayed_checkpoint_adds_no_second_sample(tmp_path):
    with Ledger(tmp_path / "l.db") as led:
        for _ in range(3):
            led.write_part("r", CTX, part(1.0), sample(1.0))
        assert len(led.samples("r")) == 1


def _schema_2_ledger(path):
    """A ledger as wattwise wrote it at schema 2 (documents in the runs row, samples with a rowid)."""
    con = sqlite3.connect(path)
    con.executescript(ledger_mod.MIGRATIONS[1] + ";" + ledger_mod.MIGRATIONS[2])
    con.execute(f"PRAGMA application_id={ledger_mod.APPLICATION_ID}")
    con.execute("PRAGMA user_version=2")
    parts = [part(3.0, status="ok")]
    cols, docs = Ledger._run_columns("old", CTX, parts)
    cols.update(docs, context=json.dumps(CTX), id="old")
    names = sorted(cols)
    con.execute(f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [cols[n] for n in names])
    p = parts[0]
    con.execute("INSERT INTO run_parts VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                ("old", 0, p["host"], p["pid"], p["status"], p["start_ts"], p["end_ts"], p["updated_ts"],
                 p["flops"], p["steps"], json.dumps(p["readings"]), json.dumps(p["info"])))
    for t in (0.0, 1.0, 2.0, 3.0):
        con.execute("INSERT INTO samples (run_id, rank, t_s, energy_gpu_j) VALUES ('old', 0, ?, ?)", (t, 1e3 * t))
    con.execute("INSERT INTO windows (run_id, name, start_ts, end_ts, footprint) VALUES "
                "('old', 'w', 1000, 1001, '{\"energy_kwh\": 0.5}')")
    con.commit()
    con.close()


def test_schema_2_ledger_migrates_in_place(tmp_path):
    p = tmp_path / "v2.db"
    _schema_2_ledger(p)
    with Ledger(tmp_path / "ref.db") as ref:   # the same run written at schema 3
        ref.write_part("old", CTX, part(3.0, status="ok"))
        want = ref.run("old")
    with Ledger(p) as led:
        got = led.run("old")
        assert got == want
        assert [s["t_s"] for s in led.samples("old")] == [0.0, 1.0, 2.0, 3.0]
        assert led.windows("old")[0]["footprint"] == {"energy_kwh": 0.5}
        led.write_part("new", CTX, part(1.0), sample(1.0))   # and it is written to as a schema-3 ledger
        assert led.run("new")["status"] in ("running", "lost")
    con = sqlite3.connect(p)
    assert con.execute("PRAGMA user_version").fetchone()[0] == ledger_mod.SCHEMA_VERSION == 3
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT context, footprint FROM runs WHERE id='old'").fetchone() == ("{}", None)
    assert os.stat(p).st_size > 0


def test_schema_2_ledger_read_only_reader_upgrades_with_write_access(tmp_path):
    p = tmp_path / "v2.db"
    _schema_2_ledger(p)
    with Ledger(p, create=False) as led:
        assert to_footprint(led.run("old")).energy_kwh == pytest.approx(3000.0 / 3.6e6 * 1.2)
