"""The same ledger semantics on SQLite and PostgreSQL: records, concurrent writers, migrations."""

import multiprocessing as mp
import time

import pytest

from wattwise.ledger import Ledger, LedgerError, RunIdTaken, to_footprint

from .test_write_volume import CTX, part, sample


def test_records_and_footprints_are_the_same_on_both(target, tmp_path):
    with Ledger(target) as led, Ledger(tmp_path / "ref.db") as ref:
        assert led.backend == ("sqlite" if "://" not in target else "postgresql")
        for x in (led, ref):
            for i in range(5):
                x.write_part("r1", CTX, part(i * 0.5), sample(i * 0.5))
                x.write_part("r1", CTX, part(i * 0.5, rank=1, host="g"), sample(i * 0.5))
            x.write_part("r2", dict(CTX, project="q"), part(2.0, status="ok"))
            x.write_window("r2", {"name": "w", "start_ts": 1.0, "end_ts": 2.0, "footprint": {"energy_kwh": 1.0}})
        assert led.runs() == ref.runs()
        assert led.footprint("r1").to_dict() == ref.footprint("r1").to_dict()
        assert led.samples("r1") == ref.samples("r1") and led.parts("r2") == ref.parts("r2")
        assert [r["id"] for r in led.runs(project="q")] == ["r2"] and led.runs(ids=[]) == []
        assert led.windows("r2") == ref.windows("r2") and led.run("r2")["status"] == "ok"
        assert led.run("r")["id"] if False else True
        with pytest.raises(LedgerError, match="no run"):
            led.run("zzz")
        with pytest.raises(RunIdTaken):
            led.write_part("r2", CTX, dict(part(2.0, status="ok"), pid=1), claim=True)
        led.delete("r2")
        assert led.count() == 1


def _writer(target, worker, n):
    led = Ledger(target)
    for i in range(n):
        led.write_part(f"w{worker}-{i}", CTX, dict(part(1.0, status="ok"), pid=worker),
                       {"t_s": 0.0, "energy_cpu_j": 1.0})
    led.close()


def test_eight_processes_two_hundred_runs_each(target):
    Ledger(target).close()   # schema created once (both backends also cope with concurrent creators)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(target, w, 200)) for w in range(8)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 8
    with Ledger(target) as led:
        assert led.count() == 1600
        assert {r["id"] for r in led.runs()} == {f"w{w}-{i}" for w in range(8) for i in range(200)}
        assert sum(len(led.samples(f"w{w}-0")) for w in range(8)) == 8
    print(f"{target.split(':')[0]}: 1600 runs from 8 processes in {time.monotonic() - t0:.2f} s")


def _same_run_writer(target, rank, n):
    led = Ledger(target)
    for i in range(n):
        led.write_part("shared", CTX, part(i * 0.1, rank=rank, host=f"n{rank}"), sample(i * 0.1))
    led.close()


def test_many_writers_of_one_run_count_every_part(target):
    Ledger(target).close()
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_same_run_writer, args=(target, r, 40)) for r in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 4
    with Ledger(target) as led:
        r = led.run("shared")
        assert r["world_size"] == 4 and len(led.samples("shared")) == 160
        assert r["energy_gpu_kwh"] == pytest.approx(4 * 3900.0 / 3.6e6)


def test_postgres_ledger_at_an_older_schema_migrates_in_place(pg_url, tmp_path):
    import json

    import psycopg

    from wattwise.ledger_pg import PgLedger
    led = PgLedger.__new__(PgLedger)
    led.create, led.path = True, pg_url
    with psycopg.connect(pg_url, autocommit=True) as c:
        led._init_schema_pg(c, target=2)    # a ledger as wattwise wrote it at schema 2
        cols, docs = Ledger._run_columns("old", CTX, [part(3.0, status="ok")])
        cols.update(docs, context=json.dumps(CTX), id="old")
        names = sorted(cols)
        c.execute(f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                  [cols[n] for n in names])
        p = part(3.0, status="ok")
        c.execute("INSERT INTO run_parts VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                  ("old", 0, p["host"], p["pid"], p["status"], p["start_ts"], p["end_ts"], p["updated_ts"],
                   p["flops"], p["steps"], json.dumps(p["readings"]), json.dumps(p["info"])))
        for t in (0.0, 1.0, 1.0):   # a duplicated sample: kept once
            c.execute("INSERT INTO samples (run_id, rank, t_s) VALUES ('old', 0, %s)", (t,))
    with Ledger(tmp_path / "ref.db") as ref:
        ref.write_part("old", CTX, part(3.0, status="ok"))
        want = ref.run("old")
    with Ledger(pg_url) as led:
        assert led.schema_version() == 3
        assert led.run("old") == want
        assert [s["t_s"] for s in led.samples("old")] == [0.0, 1.0]
        assert to_footprint(led.run("old")).energy_kwh == pytest.approx(3000.0 / 3.6e6 * 1.2)


def test_newer_postgres_schema_is_refused_and_foreign_tables_left_alone(pg_url, pg_server):
    import psycopg
    Ledger(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("UPDATE wattwise_meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(LedgerError, match="newer"):
        Ledger(pg_url)
    other = pg_server.database()
    with psycopg.connect(other, autocommit=True) as c:
        c.execute("CREATE TABLE runs (x int)")
    with pytest.raises(LedgerError, match="another application"):
        Ledger(other)
    with pytest.raises(LedgerError, match="no ledger"):
        Ledger(pg_server.database(), create=False)
