"""The tracker never hurts the job and never loses what it measured (issue 19): one test per defect."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

from wattwise.ledger import Ledger
from wattwise.meters.base import Reading
from wattwise.tracker import Tracker, TrackerWarning
from wattwise.tracker.command import redact, run_command

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src") + os.pathsep + ROOT)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    for k in ("WATTWISE_REGION", "WATTWISE_PUE", "WATTWISE_CONFIG", "WATTWISE_RUN_ID", "RANK", "WORLD_SIZE",
              "WATTWISE_INTERVAL", "WATTWISE_DEADLINE_S"):
        monkeypatch.delenv(k, raising=False)


class Meter:
    """A GPU meter adding 10 J a read; `hang_after` reads then blocks; `nan_at` read returns NaN."""
    name, component, kind, source = "test", "gpu", "measured", "test meter"

    def __init__(self, hang_after=None, nan_at=None):
        self.reads, self.hang_after, self.nan_at = 0, hang_after, nan_at
        self.release = threading.Event()

    def start(self):
        pass

    def read(self):
        self.reads += 1
        if self.hang_after is not None and self.reads > self.hang_after:
            self.release.wait(60)
        e = 10.0 * self.reads
        if self.nan_at == self.reads:
            e = float("nan")
        return [Reading("h/gpu/0", "gpu", e, e, e, label="test GPU")]

    def close(self):
        pass


def _wattwise(*args, **kw):
    env = dict(ENV, **kw.pop("env", {}))
    return subprocess.Popen([sys.executable, "-m", "wattwise.cli.main", *args], env=env, **kw)


# 1. fork -----------------------------------------------------------------------------------------------------------

FORK = textwrap.dedent("""
    import os, sys, time
    from wattwise.tracker import Tracker
    t = Tracker("parent", interval_s=0.01, ledger=sys.argv[1], region="FR").start()
    time.sleep(0.2)
    hung = 0
    for i in range(300):
        pid = os.fork()
        if pid == 0:                       # a DataLoader worker: uses the inherited tracker, exits normally
            t.step(flops=1.0)
            t.reading()
            sys.exit(0)                    # atexit handlers run here
        deadline = time.monotonic() + 10
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                hung += 1
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                break
            time.sleep(0.001)
    t.stop()
    print(hung, t.run_id, os.getpid())
""")


def test_300_forked_children_never_hang_and_never_touch_the_parents_record(tmp_path):
    db = tmp_path / "l.db"
    out = subprocess.run([sys.executable, "-c", FORK, str(db)], env=ENV, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    hung, run_id, pid = out.stdout.split()
    assert hung == "0"
    with Ledger(db, create=False) as led:
        assert len(led.runs()) == 1
        rec = led.run(run_id)
        part = led.parts(run_id)[0]
    assert rec["status"] == "ok" and part["pid"] == int(pid) and rec["duration_s"] > 0.2


# 2. hung meter, locked ledger ----------------------------------------------------------------------------------------

def test_a_hung_meter_holds_stop_for_at_most_the_deadline(tmp_path):
    m = Meter(hang_after=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.monotonic()
        with Tracker("hung", ledger=tmp_path / "l.db", meters=[m], interval_s=0.05, deadline_s=0.5) as t:
            time.sleep(0.3)
        took = time.monotonic() - t0
    m.release.set()
    assert took < 3.0, took
    assert t.status == "ok" and t.footprint.energy_by_component_kwh["gpu"] > 0   # what was read is kept
    assert any("no answer within 0.5 s" in str(c.message) for c in caught)


def test_run_command_of_a_one_second_child_returns_within_the_deadline_when_a_meter_hangs(tmp_path):
    m = Meter(hang_after=1)
    t0 = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrackerWarning)
        res = run_command([sys.executable, "-c", "import time; time.sleep(1)"], ledger=tmp_path / "l.db",
                          meters=[m], interval_s=0.1, deadline_s=0.5)
    m.release.set()
    assert res.exit_code == 0 and time.monotonic() - t0 < 5.0


def test_a_locked_ledger_never_holds_the_job_and_the_record_is_flushed_later(tmp_path):
    db = tmp_path / "l.db"
    Ledger(db).close()
    locker = sqlite3.connect(str(db), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.monotonic()
            with Tracker("locked", ledger=db, meters=[Meter()], interval_s=0.2, deadline_s=0.3) as t:
                time.sleep(1.0)
            took = time.monotonic() - t0
        assert took < 4.0, took
        assert any("spooled" in str(c.message) for c in caught)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    with Ledger(db) as led:                          # the next writer flushes the spool
        rec = led.run(t.run_id)
    assert rec["status"] == "ok" and rec["energy_kwh"] == pytest.approx(t.footprint.energy_kwh)


# 3. signals ------------------------------------------------------------------------------------------------------------

def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc to find the child")
@pytest.mark.parametrize("delay_ms", [0, 2, 5, 10, 20, 40])
def test_sigterm_in_the_first_milliseconds_is_forwarded_and_recorded(tmp_path, delay_ms):
    db = tmp_path / "l.db"
    p = _wattwise("run", "--json", "--interval", "0.05", "--ledger", str(db), "--", sys.executable, "-c",
                  "import time; time.sleep(20)", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not _children(p.pid):
        assert time.monotonic() < deadline and p.poll() is None, "the command never started"
        time.sleep(0.0005)
    child = _children(p.pid)[0]
    time.sleep(delay_ms / 1000)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 128 + signal.SIGTERM, err
    rec = json.loads(out)
    assert rec["status"] == "interrupted" and rec["exit_code"] == -signal.SIGTERM
    assert not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z"
    with Ledger(db, create=False) as led:
        assert led.run(rec["id"])["status"] == "interrupted"


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc to find the child")
def test_sigint_sent_to_wattwise_alone_reaches_the_command(tmp_path):
    db = tmp_path / "l.db"
    p = _wattwise("run", "--json", "--ledger", str(db), "--", sys.executable, "-c", "import time; time.sleep(20)",
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not _children(p.pid):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.2)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 10 and json.loads(out)["status"] == "interrupted"


def test_a_segfault_is_failed_and_sigterm_interrupted(tmp_path):
    crash = run_command([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
                        ledger=tmp_path / "l.db", interval_s=0.1)
    assert crash.exit_code == -signal.SIGSEGV and crash.status == "failed"
    stopped = run_command([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"],
                          ledger=tmp_path / "l.db", interval_s=0.1)
    assert stopped.status == "interrupted"


def test_nested_trackers_stopped_out_of_order_restore_the_original_handler(tmp_path):
    original = signal.getsignal(signal.SIGTERM)
    a = Tracker("outer", ledger=False, meters=[Meter()], interval_s=10).start()
    b = Tracker("inner", ledger=False, meters=[Meter()], interval_s=10).start()
    a.stop()
    assert signal.getsignal(signal.SIGTERM) is not original     # b still runs: its handler stays
    b.stop()
    assert signal.getsignal(signal.SIGTERM) is original


# 4-5. threads and ids ------------------------------------------------------------------------------------------------

def test_eight_threads_of_200k_steps_lose_no_flop(tmp_path):
    t = Tracker("threads", ledger=False, meters=[Meter()], interval_s=10).start()
    n = 200_000

    def work():
        for _ in range(n):
            t.step(flops=1.0)

    ths = [threading.Thread(target=work) for _ in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    fp = t.stop()
    assert fp.flops == 8 * n and t._steps == 8 * n


def test_a_million_generated_ids_are_unique():
    from wattwise.tracker.ids import new_run_id
    ids = [new_run_id() for _ in range(1_000_000)]
    assert len(set(ids)) == len(ids)


def test_a_generated_id_already_taken_is_replaced_not_merged(tmp_path, monkeypatch):
    from wattwise.tracker import ids
    db = tmp_path / "l.db"
    monkeypatch.setattr(ids, "new_run_id", lambda: "20260101-000000-same")
    with Tracker("first", ledger=db, meters=[Meter()], interval_s=10) as first:
        pass
    calls = iter(["20260101-000000-same", "20260101-000000-fresh"])
    monkeypatch.setattr(ids, "new_run_id", lambda: next(calls))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrackerWarning)
        with Tracker("second", ledger=db, meters=[Meter()], interval_s=10) as second:
            pass
    assert first.run_id != second.run_id
    with Ledger(db, create=False) as led:
        assert {r["name"] for r in led.runs()} == {"first", "second"}


# 8-9. clocks and NaN --------------------------------------------------------------------------------------------------

def test_a_clock_stepped_back_keeps_the_duration_positive(tmp_path, monkeypatch):
    t = Tracker("clock", ledger=tmp_path / "l.db", meters=[Meter()], interval_s=10).start()
    time.sleep(0.2)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)     # NTP steps the wall clock back an hour
    fp = t.stop()
    monkeypatch.setattr(time, "time", real)
    assert 0.15 < fp.duration_s < 30


def test_a_nan_reading_is_dropped_with_a_warning_and_the_run_kept(tmp_path):
    m = Meter(nan_at=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Tracker("nan", ledger=tmp_path / "l.db", meters=[m], interval_s=10) as t:
            t.begin_window("w")        # read 2: NaN
            t.end_window("w")
    assert t.footprint is not None and t.footprint.energy_kwh is not None
    assert t.footprint.it_energy_kwh == t.footprint.it_energy_kwh     # finite
    assert any("non-finite" in str(c.message) for c in caught)


# 6. names in the terminal and in files --------------------------------------------------------------------------

NASTY = ["[red]styled[/red]", "[/]x", "\x1b]0;pwned\x07title", "\x1b[2Jclear", "\x1b]8;;http://evil\x1b\\link",
         "pipe|and\nnewline", "=HYPERLINK(\"http://evil\")"]


def test_markup_and_escape_sequences_in_names_are_shown_plain(tmp_path):
    db = tmp_path / "l.db"
    for n in NASTY:
        with Tracker(n, ledger=db, meters=[Meter()], interval_s=10):
            pass
    for args in (["runs", "list"], ["runs", "show", Ledger(db, create=False).runs()[0]["id"]]):
        r = subprocess.run([sys.executable, "-m", "wattwise.cli.main", *args, "--ledger", str(db)], env=ENV,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    listed = subprocess.run([sys.executable, "-m", "wattwise.cli.main", "runs", "list", "--ledger", str(db)],
                            env=dict(ENV, COLUMNS="200"), capture_output=True, text=True).stdout
    assert "[red]styled[/red]" in listed and "[/]x" in listed
    csv_out = subprocess.run([sys.executable, "-m", "wattwise.cli.main", "runs", "export", "--ledger", str(db)],
                             env=ENV, capture_output=True, text=True).stdout
    assert ",=HYPERLINK" not in csv_out and "'=HYPERLINK" in csv_out


# 7. readers need no write access ---------------------------------------------------------------------------------

def _nobody_can_run_python() -> bool:
    if os.geteuid() != 0 or not shutil.which("runuser"):
        return False
    r = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-c", "import wattwise"], env=ENV,
                       capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not _nobody_can_run_python(), reason="needs root, runuser, and a Python (and wattwise) that "
                                                        "user nobody may run")
def test_a_readable_ledger_of_another_user_is_listed(tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    db = d / "l.db"
    with Tracker("mine", ledger=db, meters=[Meter()], interval_s=10):
        pass
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o755)
    os.chmod(db, 0o644)
    r = subprocess.run(["runuser", "-u", "nobody", "--", sys.executable, "-m", "wattwise.cli.main", "runs", "list",
                        "--json", "--ledger", str(db)], env=dict(ENV, WATTWISE_HOME="/tmp/nobody-home-ww"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert [x["name"] for x in json.loads(r.stdout)] == ["mine"]
    assert sorted(os.listdir(d)) == ["l.db"]                 # the reader left no -wal/-shm behind


# 11. privacy -------------------------------------------------------------------------------------------------------

def test_new_ledgers_are_private(tmp_path):
    db = tmp_path / "new" / "l.db"
    Ledger(db).close()
    assert oct(os.stat(db).st_mode & 0o777) == "0o600" and oct(os.stat(db.parent).st_mode & 0o777) == "0o700"


def test_a_secret_in_argv_never_reaches_the_ledger_or_the_card(tmp_path):
    db = tmp_path / "l.db"
    code = "import sys; sys.exit(0)"
    r = subprocess.run([sys.executable, "-m", "wattwise.cli.main", "run", "--json", "--ledger", str(db), "--",
                        sys.executable, "-c", code, "--api-key=SECRET123", "--token", "SECRET456"], env=ENV,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r2 = subprocess.run([sys.executable, "-m", "wattwise.cli.main", "run", "--record-command", "--ledger", str(db),
                         "--", sys.executable, "-c", code, "--password=SECRET789"], env=ENV, capture_output=True,
                        text=True, timeout=60)
    assert r2.returncode == 0, r2.stderr
    card = tmp_path / "card.html"
    subprocess.run([sys.executable, "-m", "wattwise.cli.main", "report", "--ledger", str(db), "--format", "html",
                    "-o", str(card)], env=ENV, check=True, capture_output=True)
    blob = db.read_bytes() + (tmp_path / "l.db-wal").read_bytes() if (tmp_path / "l.db-wal").exists() \
        else db.read_bytes()
    for secret in (b"SECRET123", b"SECRET456", b"SECRET789"):
        assert secret not in blob and secret not in card.read_bytes()
    assert redact(["x", "--api-key=abc", "--token", "t", "--lr", "3"]) == ["x", "--api-key=***", "--token", "***",
                                                                        "--lr", "3"]
    assert "SECRET" not in r.stdout
    with Ledger(db, create=False) as led:
        names = [x["name"] for x in led.runs()]
    assert names == [os.path.basename(sys.executable)] * 2       # the program's name, not the command line


def test_reading_a_ledger_writes_nothing_to_it(tmp_path):
    db = tmp_path / "l.db"
    with Tracker("r", ledger=db, meters=[Meter()], interval_s=10):
        pass
    before = {f: (os.stat(tmp_path / f).st_size, os.stat(tmp_path / f).st_mtime_ns) for f in os.listdir(tmp_path)}
    with Ledger(db, create=False) as led:
        assert [r["name"] for r in led.runs()] == ["r"]
    after = {f: (os.stat(tmp_path / f).st_size, os.stat(tmp_path / f).st_mtime_ns) for f in os.listdir(tmp_path)}
    assert after == before                                    # no -wal/-shm, no migration, no touch


def test_nul_c1_escapes_and_pipes_in_names_stay_out_of_the_documents(tmp_path):
    db = tmp_path / "l.db"
    for n in NASTY + ["nul\x00del\x7fc1\x85end"]:
        with Tracker(n, ledger=db, meters=[Meter()], interval_s=10, run_id=None):
            pass
    outs = {}
    for fmt in ("md", "html", "latex", "modelcard"):
        out = tmp_path / f"card.{fmt}"
        subprocess.run([sys.executable, "-m", "wattwise.cli.main", "report", "--ledger", str(db), "--format", fmt,
                        "-o", str(out)], env=ENV, check=True, capture_output=True)
        outs[fmt] = out.read_text()
    for fmt, text in outs.items():
        assert not any(c in text for c in "\x00\x1b\x07\x7f\x85"), fmt
    yaml = pytest.importorskip("yaml")
    front = outs["modelcard"].split("---")[1]
    assert "co2_eq_emissions" in yaml.safe_load(front)
    rows = [ln for ln in outs["md"].splitlines() if ln.startswith("| `") or ln.startswith("| pipe")]
    widths = {ln.replace("\\|", "").count("|") for ln in outs["md"].splitlines() if ln.startswith("| ")
              and "Run" not in ln and ln.count("|") > 8}
    assert rows and len(widths) == 1                           # every runs-table row has the same cells


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreaper is Linux only")
def test_a_daemonized_child_is_reported_as_not_measured(tmp_path):
    db = tmp_path / "l.db"
    code = ("import os, sys, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid(); time.sleep(4); os._exit(0)\n")
    r = subprocess.run([sys.executable, "-m", "wattwise.cli.main", "run", "--json", "--ledger", str(db), "--",
                        sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    warned = [w for w in rec["provenance"]["warnings"] if "left 1 process" in w]
    assert warned and "not measured" in warned[0]


def test_windows_ended_while_the_ledger_is_locked_are_written_later(tmp_path):
    db = tmp_path / "l.db"
    Ledger(db).close()
    t = Tracker("win-locked", ledger=db, meters=[Meter()], interval_s=10, deadline_s=0.3).start()
    deadline = time.monotonic() + 20
    while t.ledger is None and time.monotonic() < deadline:
        time.sleep(0.01)
    locker = sqlite3.connect(str(db), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrackerWarning)
        t.end_window(t.begin_window("during-lock"))
        with t._lock:
            t._checkpoint()                          # fails: locked; the window waits
        locker.execute("ROLLBACK")
        locker.close()
        t.stop()                                     # the final checkpoint writes it
    with Ledger(db, create=False) as led:
        assert [w["name"] for w in led.windows(t.run_id)] == ["during-lock"]
