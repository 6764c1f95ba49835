"""The PostgreSQL ledger backend: `Ledger("postgresql://user@host:port/db")` (or `WATTWISE_LEDGER=postgresql://...`).

Same records as the SQLite ledger (the write and read logic is wattwise.ledger.Ledger's, the SQL is shared),
the same schema versions (PG_MIGRATIONS mirrors wattwise.ledger.MIGRATIONS, recorded in table `wattwise_meta`),
written with psycopg 3 (`pip install 'wattwise[postgres]'`).

- Whole records or none: every write is one transaction; the run row is locked (`SELECT ... FOR UPDATE`) while
  its totals are recomputed, so writers on many hosts may write parts of one run at once.
- Migrations run under an advisory lock, in one transaction each (DDL is transactional in PostgreSQL).
- A server that goes away (restart, network) never fails a checkpoint: writes queue in memory and in a local
  file (`<home>/spool/pg/<url hash>-<host>-<pid>.jsonl`, 0600) and are replayed in order when the server answers
  again (checked at most every `retry_s`), or by the next process that opens the ledger if this one died.
  Samples are keyed by (run, rank, time), so a replay of a write that did commit adds nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .ledger import SCHEMA_VERSION, Ledger, LedgerError, RunIdTaken, resolve_target

APPLICATION = "wattwise-ledger"
_LOCK_KEY = 0x57415454   # advisory lock of migrations ('WATT')

_PG_V1 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT, project TEXT, tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    start_ts DOUBLE PRECISION, end_ts DOUBLE PRECISION, updated_ts DOUBLE PRECISION, duration_s DOUBLE PRECISION,
    host TEXT, hardware TEXT, region TEXT,
    pue DOUBLE PRECISION, intensity_g_per_kwh DOUBLE PRECISION,
    energy_gpu_kwh DOUBLE PRECISION, energy_cpu_kwh DOUBLE PRECISION, energy_memory_kwh DOUBLE PRECISION,
    it_energy_kwh DOUBLE PRECISION,
    energy_kwh DOUBLE PRECISION, energy_kwh_low DOUBLE PRECISION, energy_kwh_high DOUBLE PRECISION,
    co2e_kg DOUBLE PRECISION, co2e_kg_low DOUBLE PRECISION, co2e_kg_high DOUBLE PRECISION,
    cost_usd DOUBLE PRECISION, cost_usd_low DOUBLE PRECISION, cost_usd_high DOUBLE PRECISION,
    gpu_hours DOUBLE PRECISION, flops DOUBLE PRECISION, flop_per_s DOUBLE PRECISION, mfu DOUBLE PRECISION,
    world_size INTEGER NOT NULL DEFAULT 1,
    context TEXT NOT NULL DEFAULT '{}',
    provenance TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_project ON runs(project);
CREATE INDEX runs_start ON runs(start_ts);
CREATE TABLE run_parts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    rank INTEGER NOT NULL,
    host TEXT, pid BIGINT, status TEXT NOT NULL,
    start_ts DOUBLE PRECISION, end_ts DOUBLE PRECISION, updated_ts DOUBLE PRECISION,
    flops DOUBLE PRECISION, steps BIGINT,
    readings TEXT NOT NULL DEFAULT '[]',
    info TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, rank)
);
CREATE TABLE samples (
    run_id TEXT NOT NULL, rank INTEGER NOT NULL, t_s DOUBLE PRECISION NOT NULL,
    energy_gpu_j DOUBLE PRECISION, energy_cpu_j DOUBLE PRECISION, energy_memory_j DOUBLE PRECISION,
    flops DOUBLE PRECISION
);
CREATE INDEX samples_run ON samples(run_id, rank, t_s);
"""

_PG_V2 = """
ALTER TABLE runs ADD COLUMN footprint TEXT;
CREATE TABLE windows (
    seq BIGSERIAL PRIMARY KEY,
    run_id TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0, name TEXT NOT NULL,
    start_ts DOUBLE PRECISION, end_ts DOUBLE PRECISION, status TEXT NOT NULL DEFAULT 'ok',
    footprint TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX windows_run ON windows(run_id, start_ts);
"""

_PG_V3 = """
CREATE TABLE run_docs (
    run_id TEXT PRIMARY KEY,
    context TEXT NOT NULL DEFAULT '{}', provenance TEXT NOT NULL DEFAULT '{}', footprint TEXT
);
INSERT INTO run_docs (run_id, context, provenance, footprint) SELECT id, context, provenance, footprint FROM runs;
UPDATE runs SET context='{}', provenance='{}', footprint=NULL;
DELETE FROM samples a USING samples b
    WHERE a.ctid > b.ctid AND a.run_id=b.run_id AND a.rank=b.rank AND a.t_s=b.t_s;
DROP INDEX samples_run;
ALTER TABLE samples ADD PRIMARY KEY (run_id, rank, t_s);
ALTER TABLE run_parts ADD COLUMN folded INTEGER NOT NULL DEFAULT 1
"""

# the same versions as wattwise.ledger.MIGRATIONS, in PostgreSQL's dialect
PG_MIGRATIONS: dict[int, str] = {1: _PG_V1, 2: _PG_V2, 3: _PG_V3}


def redact(url: str) -> str:
    """The URL without its password (for messages and file names)."""
    u = urlsplit(url)
    if u.password is None:
        return url
    netloc = u.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit((u.scheme, f"{user}:***@{netloc[1]}", u.path, u.query, u.fragment))


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise LedgerError("a postgresql:// ledger needs psycopg 3: pip install 'wattwise[postgres]' "
                          "(or 'psycopg[binary]')") from None
    return psycopg


def _has_table(conn, name: str) -> bool:
    """A table of that name in the current schema (read from pg_tables with the statement's own snapshot: the
    relation cache behind to_regclass may not yet show a table another session just created)."""
    return conn.execute("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
                        "tablename = %s", (name,)).fetchone()[0] > 0


class _Con:
    """The connection as the shared ledger code uses it: `execute(sql with ?, args)` -> cursor."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql: str, args=()):
        return self.conn.execute(sql.replace("?", "%s"), args)


def queue_dir() -> Path:
    from .tracker.config import home
    return home() / "spool" / "pg"


class PgLedger(Ledger):
    """A wattwise ledger in a PostgreSQL database (see the module docstring)."""

    backend = "postgresql"
    _WINDOW_ORDER = "seq"

    def __init__(self, path: str | None = None, *, timeout_s: float = 60.0, create: bool = True,
                 retry_s: float = 1.0, connect_timeout_s: float | None = None):
        self.url = str(resolve_target(path))
        self.path = redact(self.url)
        self.timeout_s = timeout_s
        self.create = create
        self.retry_s = retry_s
        self.connect_timeout_s = connect_timeout_s if connect_timeout_s is not None else min(5.0, timeout_s)
        self._lock = threading.RLock()
        self._con = None
        self._host = socket.gethostname()
        self._queue: list[dict] = []
        self._queue_file = None
        self._next_try = 0.0
        self._closed = False
        self._pg = _psycopg()
        try:
            self._connect_now()
        except self._pg.Error as e:
            raise LedgerError(f"cannot open the ledger {self.path}: {str(e).strip()}") from None
        if create:
            self._replay_orphans()
            from .tracker.spool import flush   # trackers that found the server down when they started
            flush(self)

    # --- connection and schema ----------------------------------------------------------------------------------
    def _connect_now(self) -> None:
        conn = self._pg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.connect_timeout_s)),
                                application_name="wattwise")
        try:
            self._init_schema_pg(conn)
        except BaseException:
            conn.close()
            raise
        self._con = conn

    def schema_version(self, conn=None) -> int | None:
        """The ledger's schema version in the database, or None when it holds no wattwise ledger."""
        conn = conn or self._con
        if not _has_table(conn, "wattwise_meta"):
            return None
        row = conn.execute("SELECT value FROM wattwise_meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _init_schema_pg(self, conn, target: int | None = None) -> None:
        target = SCHEMA_VERSION if target is None else target
        version = self.schema_version(conn)
        if version == target:
            return
        if version is not None and version > SCHEMA_VERSION:
            raise LedgerError(f"{self.path} has ledger schema version {version}, newer than this wattwise "
                              f"understands ({SCHEMA_VERSION}); upgrade wattwise")
        if version is None and not self.create:
            raise LedgerError(f"no ledger at {self.path}: nothing has been recorded there (`wattwise ledger init "
                              f"{self.path}` creates one)")
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            version = self.schema_version(conn)
            if version is None:
                if _has_table(conn, "runs"):
                    raise LedgerError(f"{self.path} holds a table 'runs' of another application (no wattwise_meta);"
                                      " it was left untouched. Use another database or schema")
                conn.execute("CREATE TABLE wattwise_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                conn.execute("INSERT INTO wattwise_meta VALUES ('application', %s), ('schema_version', '0')",
                             (APPLICATION,))
                version = 0
            if version > SCHEMA_VERSION:
                raise LedgerError(f"{self.path} has ledger schema version {version}, newer than this wattwise "
                                  f"understands ({SCHEMA_VERSION}); upgrade wattwise")
            for v in range(version + 1, target + 1):
                for stmt in PG_MIGRATIONS[v].split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                conn.execute("UPDATE wattwise_meta SET value=%s WHERE key='schema_version'", (str(v),))

    def _ensure(self) -> bool:
        """Connected (reconnecting when due); False while the server cannot be reached."""
        if self._con is not None and not self._con.closed:
            return True
        self._con = None
        if time.monotonic() < self._next_try:
            return False
        try:
            self._connect_now()
            return True
        except self._pg.OperationalError:
            self._next_try = time.monotonic() + self.retry_s
            return False

    def _gone(self, e: Exception) -> bool:
        """The server or the connection went away (not an error of this statement)."""
        pg = self._pg
        if isinstance(e, pg.errors.TransactionRollback):
            return False
        return isinstance(e, (pg.OperationalError, pg.InterfaceError)) or (self._con is not None
                                                                           and self._con.closed)

    def _drop(self) -> None:
        try:
            if self._con is not None:
                self._con.close()
        except Exception:  # noqa: BLE001
            pass
        self._con = None
        self._next_try = time.monotonic() + self.retry_s

    def _run_tx(self, fn):
        """fn(con) in one transaction, retried on serialization failures and deadlocks until timeout_s."""
        pg = self._pg
        deadline = time.monotonic() + self.timeout_s
        delay = 0.01
        while True:
            try:
                with self._con.transaction():
                    return fn(_Con(self._con))
            except pg.errors.TransactionRollback:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _tx(self, fn):
        with self._lock:
            self._check_open()
            if not self._ensure():
                raise LedgerError(f"{self.path}: the server cannot be reached")
            try:
                return self._run_tx(fn)
            except LedgerError:
                raise
            except self._pg.Error as e:
                if self._gone(e):
                    self._drop()
                raise LedgerError(f"{self.path}: {str(e).strip()}") from None

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerError(f"{self.path}: ledger is closed")

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._queue and self._ensure():
                self._flush_queue()
            self._closed = True
            self._drop()
            if self._queue_file is not None:
                if not self._queue:
                    self._remove_queue_file()
                else:
                    self._queue_file.close()   # left for the next process that opens this ledger
                self._queue_file = None

    # --- writes that survive the server going away --------------------------------------------------------------
    def write_part(self, run_id: str, ctx: dict, part: dict, sample: dict | None = None, *,
                   claim: bool = False) -> None:
        self._write({"kind": "part", "run_id": run_id, "ctx": ctx, "part": part, "sample": sample, "claim": claim})

    def write_window(self, run_id: str, window: dict) -> None:
        self._write({"kind": "window", "run_id": run_id, "window": window})

    def _apply(self, con, item: dict) -> None:
        if item["kind"] == "part":
            self._write_part_tx(con, item["run_id"], item["ctx"], item["part"], item.get("sample"),
                                bool(item.get("claim")))
        else:
            w = item["window"]
            con.execute("INSERT INTO windows (run_id, rank, name, start_ts, end_ts, status, footprint) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (item["run_id"], int(w.get("rank") or 0), str(w["name"]), w.get("start_ts"),
                         w.get("end_ts"), w.get("status") or "ok", json.dumps(w.get("footprint") or {})))

    def _write(self, item: dict) -> None:
        with self._lock:
            self._check_open()
            if self._queue or not self._ensure():
                self._enqueue(item)
                if self._ensure():
                    self._flush_queue()
                return
            try:
                self._run_tx(lambda con: self._apply(con, item))
            except RunIdTaken:
                raise
            except LedgerError:
                raise
            except self._pg.Error as e:
                if not self._gone(e):
                    raise LedgerError(f"{self.path}: {str(e).strip()}") from None
                self._drop()
                self._enqueue(item)

    def _enqueue(self, item: dict) -> None:
        item = dict(item, claim=False)   # replayed later: another job's id is practically never met
        self._queue.append(item)
        try:
            if self._queue_file is None:
                d = queue_dir()
                d.mkdir(parents=True, exist_ok=True, mode=0o700)
                tag = hashlib.sha1(self.path.encode()).hexdigest()[:12]
                p = d / f"{tag}-{socket.gethostname()}-{os.getpid()}.jsonl"
                fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
                f = os.fdopen(fd, "a", encoding="utf-8")
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._queue_file, self._queue_path = f, p
            self._queue_file.write(json.dumps({"ledger": self.path, **item}, default=str) + "\n")
            self._queue_file.flush()
        except OSError:
            pass   # kept in memory only

    def _flush_queue(self) -> int:
        """Write the queued items in order; stops (keeping the rest) if the server goes away again."""
        n = 0
        while self._queue:
            item = self._queue[0]
            try:
                self._run_tx(lambda con: self._apply(con, item))
            except self._pg.Error as e:
                if self._gone(e):
                    self._drop()
                    return n
                self._queue.pop(0)   # a record the server refuses: dropped, not retried forever
                continue
            except LedgerError:
                self._queue.pop(0)
                continue
            self._queue.pop(0)
            n += 1
        if self._queue_file is not None:
            self._remove_queue_file()
        return n

    def _remove_queue_file(self) -> None:
        try:
            os.unlink(self._queue_path)
        except OSError:
            pass
        try:
            self._queue_file.close()
        except OSError:
            pass
        self._queue_file = None

    @property
    def queued(self) -> int:
        """Writes waiting for the server."""
        return len(self._queue)

    def flush(self) -> int:
        """Try to write what is queued now; the number written."""
        with self._lock:
            if self._queue and self._ensure():
                return self._flush_queue()
            return 0

    def _replay_orphans(self) -> int:
        """Queue files of processes that died while the server was away: replayed into this ledger."""
        d = queue_dir()
        if not d.is_dir():
            return 0
        tag = hashlib.sha1(self.path.encode()).hexdigest()[:12]
        n = 0
        for p in sorted(d.glob(f"{tag}-*.jsonl")):
            try:
                f = open(p, "r+", encoding="utf-8")
            except OSError:
                continue
            with f:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue   # its process is alive and holds it
                items = []
                for line in f:
                    try:
                        items.append(json.loads(line))
                    except ValueError:
                        continue   # a line cut by the crash
                ok = True
                with self._lock:
                    for item in items:
                        try:
                            self._run_tx(lambda con: self._apply(con, item))
                            n += 1
                        except self._pg.Error as e:
                            if self._gone(e):
                                ok = False
                                break
                if ok:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
        return n

    # --- reading ------------------------------------------------------------------------------------------------
    def _query(self, sql: str, args=()) -> list[dict]:
        with self._lock:
            self._check_open()
            for attempt in (0, 1):
                if not self._ensure():
                    if attempt == 0:
                        self._next_try = 0.0
                        continue
                    raise LedgerError(f"{self.path}: the server cannot be reached")
                try:
                    cur = self._con.execute(sql.replace("?", "%s"), args)
                    cols = [c.name for c in cur.description]
                    return [dict(zip(cols, row)) for row in cur.fetchall()]
                except self._pg.Error as e:
                    if self._gone(e) and attempt == 0:
                        self._drop()
                        self._next_try = 0.0
                        continue
                    raise LedgerError(f"{self.path}: {str(e).strip()}") from None
        raise LedgerError(f"{self.path}: the server cannot be reached")

    def parts(self, run_id: str) -> list[dict]:
        return self._parts_of(self.run(run_id)["id"])

    # --- the run row lock ---------------------------------------------------------------------------------------
    @staticmethod
    def _lock_run(con, run_id: str):
        new = con.execute("INSERT INTO runs (id, status, context) VALUES (?, 'running', '{}') "
                          "ON CONFLICT (id) DO NOTHING RETURNING id", (run_id,)).fetchone()
        if new is not None:
            return None
        return con.execute("SELECT status, updated_ts FROM runs WHERE id=? FOR UPDATE", (run_id,)).fetchone()

    @staticmethod
    def _insert_run(con, run_id: str) -> None:
        pass   # inserted by _lock_run


def status(url: str) -> dict[str, Any]:
    """Schema version and counts of a PostgreSQL ledger (for `wattwise ledger status`)."""
    with PgLedger(url, create=False) as led:
        return {"backend": "postgresql", "ledger": led.path, "schema_version": led.schema_version(),
                "runs": led.count()}
