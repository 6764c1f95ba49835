"""Backends for the ledger tests: SQLite always; PostgreSQL when `initdb` is found (a throwaway server on
127.0.0.1 started by scripts/pg_test_server.sh for the session, one fresh database per test); `WATTWISE_TEST_PG_URL`
uses a server already running instead."""

import glob
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pg_test_server.sh"


def _initdb():
    return shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None)


class PgServer:
    def __init__(self, url, folder):
        self.url, self.folder = url, folder

    def stop(self):
        subprocess.run([str(SCRIPT), "stop", self.folder], check=True, capture_output=True, timeout=60)

    def start(self):
        subprocess.run([str(SCRIPT), "start", self.folder], check=True, capture_output=True, timeout=60)

    def database(self):
        import psycopg
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_server():
    pytest.importorskip("psycopg", reason="psycopg 3 not installed (pip install 'wattwise[postgres]')")
    if os.environ.get("WATTWISE_TEST_PG_URL"):
        yield PgServer(os.environ["WATTWISE_TEST_PG_URL"], None)
        return
    if _initdb() is None:
        pytest.skip("no PostgreSQL server binaries (initdb): apt-get install postgresql")
    import tempfile
    folder = tempfile.mkdtemp(prefix="wattwise-pg-")
    out = subprocess.run([str(SCRIPT), "start", folder], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        pytest.skip(f"could not start a PostgreSQL test server: {out.stderr.strip()[-300:]}")
    try:
        yield PgServer(out.stdout.strip().splitlines()[-1], folder)
    finally:
        subprocess.run([str(SCRIPT), "destroy", folder], capture_output=True, timeout=60)


@pytest.fixture
def pg_url(pg_server):
    return pg_server.database()


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    """A ledger target of each backend: a file path, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "l.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WATTWISE_LEDGER", raising=False)
