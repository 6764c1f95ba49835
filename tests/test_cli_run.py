import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli.run import RUN_KEYS, app_run, runs_app
from wattwise.errors import WattwiseError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

app = typer.Typer()
app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(app_run)
app.add_typer(runs_app, name="runs")
runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WATTWISE_REGION", raising=False)


BUSY = "import sys, time\nt=time.process_time()\nwhile time.process_time()-t<0.3: pass\nsys.exit({code})"


def run(*args):
    return runner.invoke(app, list(args))


def test_run_measures_the_command_and_passes_its_exit_code(tmp_path):
    db = str(tmp_path / "l.db")
    res = run("run", "--json", "--interval", "0.05", "--ledger", db, "--project", "cli", "--tag", "a", "--tag", "b",
              "--region", "France", "--", sys.executable, "-c", BUSY.format(code=3))
    assert res.exit_code == 3, res.output
    rec = json.loads(res.output)
    for k in ("id", "status", "duration_s", "energy_kwh", "co2e_kg"):
        assert k in rec
    assert rec["status"] == "failed" and rec["exit_code"] == 3 and rec["tags"] == ["a", "b"]
    assert rec["region"] == "FR" and rec["duration_s"] >= 0.3
    # the child's CPU time was seen: >= 0.25 CPU-s at >= 0.5 x 15 W / 2 CPUs would be > 0; check the CPU-seconds
    assert rec["energy_cpu_kwh"] > 0 and rec["co2e_kg"] > 0

    ok = run("run", "--json", "--interval", "0.05", "--ledger", db, "--", sys.executable, "-c", "pass")
    assert ok.exit_code == 0 and json.loads(ok.output)["status"] == "ok"

    listed = run("runs", "list", "--json", "--ledger", db)
    arr = json.loads(listed.output)
    assert listed.exit_code == 0 and isinstance(arr, list) and len(arr) == 2
    assert set(RUN_KEYS) <= set(arr[0])
    by_project = run("runs", "list", "--json", "--project", "cli", "--ledger", db)
    assert [r["id"] for r in json.loads(by_project.output)] \
        == [rec["id"]]

    shown = run("runs", "show", rec["id"][:-2], "--json", "--ledger", db)  # a unique prefix
    assert json.loads(shown.output)["id"] == rec["id"]
    text = run("runs", "show", rec["id"], "--ledger", db)
    assert "estimated" in text.output and "energy_kwh" in text.output

    exported = run("runs", "export", "--format", "csv", "--ledger", db)
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert len(rows) == 2 and rows[0]["tags"] == "a;b" and float(rows[0]["energy_kwh"]) > 0
    out = tmp_path / "runs.json"
    assert run("runs", "export", "--format", "json", "-o", str(out), "--ledger", db).exit_code == 0
    assert len(json.loads(out.read_text())) == 2
    table = run("runs", "list", "--ledger", db)
    assert table.exit_code == 0 and rec["id"][:8] in table.output


def test_bad_inputs_are_wattwise_errors(tmp_path):
    res = run("run", "--region", "Atlantis", "--ledger", str(tmp_path / "l.db"), "--", "true")
    assert isinstance(res.exception, WattwiseError) and "Atlantis" in str(res.exception)
    res = run("run", "--ledger", str(tmp_path / "l.db"))
    assert isinstance(res.exception, WattwiseError) and "after --" in str(res.exception)
    res = run("run", "--ledger", str(tmp_path / "l.db"), "--", "/nonexistent/cmd")
    assert isinstance(res.exception, WattwiseError) and "cannot start" in str(res.exception)
    res = run("runs", "export", "--format", "xml", "--ledger", str(tmp_path / "l.db"))
    assert isinstance(res.exception, WattwiseError) and "csv or json" in str(res.exception)
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    res = run("runs", "list", "--ledger", str(junk))
    assert isinstance(res.exception, WattwiseError) and junk.read_text() == "not sqlite"


LAUNCHER = textwrap.dedent("""
    import sys, typer
    from wattwise.cli.run import app_run
    app = typer.Typer()
    app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(app_run)
    @app.command("noop")
    def noop(): pass
    app(sys.argv[1:])
""")


def test_sigterm_is_forwarded_and_recorded(tmp_path):
    script = tmp_path / "launcher.py"
    script.write_text(LAUNCHER)
    db = tmp_path / "l.db"
    child = "import time, sys\nprint('child up', flush=True)\ntime.sleep(30)"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    p = subprocess.Popen([sys.executable, str(script), "run", "--json", "--interval", "0.05", "--ledger", str(db),
                          "--", sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == "child up"
    time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 128 + signal.SIGTERM
    rec = json.loads(p.stdout.read())
    assert rec["status"] == "interrupted" and rec["exit_code"] == -signal.SIGTERM
