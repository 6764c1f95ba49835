"""`wattwise ledger init|migrate|status`, `runs merge` (idempotent, ids kept) and the network-FS warning."""

import json
import sqlite3

import typer
from typer.testing import CliRunner

from wattwise.cli.ledger import ledger_app, merge_command
from wattwise.ledger import Ledger

from .test_write_volume import CTX, _schema_2_ledger, part, sample

app = typer.Typer()
app.add_typer(ledger_app, name="ledger")
runs = typer.Typer()
runs.command("merge")(merge_command)
app.add_typer(runs, name="runs")


def test_ledger_init_migrate_status(tmp_path, target):
    r = CliRunner().invoke(app, ["ledger", "init", "--ledger", target, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["schema_version"] == 3 and out["runs"] == 0
    old = tmp_path / "v2.db"
    _schema_2_ledger(old)
    r = CliRunner().invoke(app, ["ledger", "migrate", "--ledger", str(old), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["schema_version"] == 3 and json.loads(r.output)["runs"] == 1
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 3
    r = CliRunner().invoke(app, ["ledger", "status", "--ledger", str(tmp_path / "none.db")])
    assert r.exit_code != 0


def test_runs_merge_is_idempotent_and_keeps_ids(tmp_path, target):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with Ledger(a) as la, Ledger(b) as lb:
        for i in range(3):
            la.write_part("job", CTX, part(i * 1.0, rank=0, host="n0"), sample(i * 1.0))
            lb.write_part("job", CTX, part(i * 1.0, rank=1, host="n1"), sample(i * 1.0))
        la.write_part("job", CTX, part(3.0, rank=0, host="n0", status="ok"))
        lb.write_part("job", CTX, part(3.0, rank=1, host="n1", status="ok"))
        lb.write_part("solo", CTX, part(1.0, status="ok"), sample(1.0))
        lb.write_window("solo", {"name": "w", "start_ts": 1.0, "end_ts": 2.0, "footprint": {}})
    for _ in range(2):
        r = CliRunner().invoke(app, ["runs", "merge", str(a), str(b), "--into", target, "--json"])
        assert r.exit_code == 0, r.output
    with Ledger(target) as led:
        assert sorted(x["id"] for x in led.runs()) == ["job", "solo"]
        job = led.run("job")
        assert job["status"] == "ok" and job["world_size"] == 2 and job["host"] == "n0,n1"
        assert job["energy_gpu_kwh"] * 3.6e6 == 2 * 3000.0
        assert len(led.samples("job")) == 6 and len(led.windows("solo")) == 1


def test_network_filesystem_warning(tmp_path, monkeypatch):
    import pytest

    from wattwise import ledger_files
    monkeypatch.setattr(ledger_files, "filesystem_type", lambda p: "nfs4")   # the SQLite file code lives there
    with pytest.warns(RuntimeWarning, match="network filesystem"):
        Ledger(tmp_path / "n.db").close()
