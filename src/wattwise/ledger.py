"""The ledger: an embedded SQLite store of measured runs and their samples.

- Default path: `$WATTWISE_HOME/ledger.db`, else `~/.wattwise/ledger.db`; any path can be passed instead.
- WAL journal, `busy_timeout` and retries: many processes (ranks, parallel jobs) may write at once.
- Versioned schema (`PRAGMA user_version`) with forward migrations; `PRAGMA application_id` marks the file
  as a wattwise ledger. A corrupt or foreign file raises `LedgerError` and is never overwritten.
- Records are written whole: every write is one transaction (a part, its sample and the run's totals).

A run is written by one or more *parts* (one per process; ranks of a torchrun job share the run id). The
run's totals are recomputed from its parts at every write, counting each physical device once: readings
with the same device key (host + GPU UUID, host + RAPL zone) from several parts are merged (largest wins).
"""

from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from .errors import WattwiseError
from .footprint import Footprint, Range

APPLICATION_ID = 0x57415454  # 'WATT'
SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
J_PER_KWH = 3.6e6
STATUSES = ("running", "ok", "failed", "interrupted", "lost")


class LedgerError(WattwiseError):
    """The ledger file cannot be used (corrupt, foreign, newer schema, locked for too long)."""


def default_path() -> Path:
    """`$WATTWISE_HOME/ledger.db`, else `~/.wattwise/ledger.db`."""
    home = os.environ.get("WATTWISE_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".wattwise"
    return base / "ledger.db"


# --- schema -------------------------------------------------------------------------------------------------------

_V1 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT, project TEXT, tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    start_ts REAL, end_ts REAL, updated_ts REAL, duration_s REAL,
    host TEXT, hardware TEXT, region TEXT,
    pue REAL, intensity_g_per_kwh REAL,
    energy_gpu_kwh REAL, energy_cpu_kwh REAL, energy_memory_kwh REAL, it_energy_kwh REAL,
    energy_kwh REAL, energy_kwh_low REAL, energy_kwh_high REAL,
    co2e_kg REAL, co2e_kg_low REAL, co2e_kg_high REAL,
    cost_usd REAL, cost_usd_low REAL, cost_usd_high REAL,
    gpu_hours REAL, flops REAL, flop_per_s REAL, mfu REAL,
    world_size INTEGER NOT NULL DEFAULT 1,
    context TEXT NOT NULL DEFAULT '{}',
    provenance TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_project ON runs(project);
CREATE INDEX runs_start ON runs(start_ts);
CREATE TABLE run_parts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    rank INTEGER NOT NULL,
    host TEXT, pid INTEGER, status TEXT NOT NULL,
    start_ts REAL, end_ts REAL, updated_ts REAL,
    flops REAL, steps INTEGER,
    readings TEXT NOT NULL DEFAULT '[]',
    info TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, rank)
);
CREATE TABLE samples (
    run_id TEXT NOT NULL, rank INTEGER NOT NULL, t_s REAL NOT NULL,
    energy_gpu_j REAL, energy_cpu_j REAL, energy_memory_j REAL, flops REAL
);
CREATE INDEX samples_run ON samples(run_id, rank, t_s);
"""

# version -> SQL that brings a ledger from version-1 to version (applied in order, each in one transaction)
MIGRATIONS: dict[int, str] = {1: _V1}


# --- totals -------------------------------------------------------------------------------------------------------

def _rng(d: dict | None) -> Range | None:
    return None if d is None else Range(d["low"], d["central"], d["high"])


def _d(r: Range | None) -> dict | None:
    return None if r is None else {"low": r.low, "central": r.central, "high": r.high}


def _part_status(part: dict, now: float, host: str) -> str:
    """A 'running' part whose process is gone (same host) or silent for long is reported 'lost'."""
    if part["status"] != "running":
        return part["status"]
    interval = float(part["info"].get("interval_s") or 1.0)
    if part["host"] == host and part["pid"] and not _pid_alive(int(part["pid"])):
        return "lost"
    if now - (part["updated_ts"] or 0) > max(10 * interval, 120.0):
        return "lost"
    return "running"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    # a zombie (killed, not yet reaped) is gone for our purpose
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return data[data.rindex(b")") + 2:data.rindex(b")") + 3] != b"Z"
    except OSError:
        return True


def combine_status(statuses: Iterable[str]) -> str:
    s = set(statuses)
    for st in ("failed", "interrupted", "running", "lost"):
        if st in s:
            return st
    return "ok"


def aggregate(parts: list[dict], ctx: dict) -> dict[str, Any]:
    """Run totals from its parts: devices counted once, energy -> facility energy -> CO2e -> cost, MFU."""
    devices: dict[str, dict] = {}
    for p in parts:
        for r in p["readings"]:
            cur = devices.get(r["device"])
            if cur is None or r["energy_j"] > cur["energy_j"]:
                devices[r["device"]] = r
    comp: dict[str, Range] = {}
    kinds: dict[str, set] = {}
    for r in devices.values():
        c = r["component"]
        comp[c] = comp.get(c, Range.point(0.0)) + Range(r["low_j"] / J_PER_KWH, r["energy_j"] / J_PER_KWH,
                                                        r["high_j"] / J_PER_KWH)
        kinds.setdefault(c, set()).add(r["kind"])
    it = None
    for r in comp.values():
        it = r if it is None else it + r
    start = min((p["start_ts"] for p in parts if p["start_ts"] is not None), default=None)
    end = max(((p["end_ts"] or p["updated_ts"]) for p in parts if (p["end_ts"] or p["updated_ts"])), default=None)
    duration_s = (end - start) if start is not None and end is not None else None
    pue, intensity = _rng(ctx.get("pue")), _rng(ctx.get("intensity_g_per_kwh"))
    energy = it * pue if it is not None and pue is not None else it
    co2e = energy * intensity / 1000.0 if energy is not None and intensity is not None else None
    gpus = [r for r in devices.values() if r["component"] == "gpu"]
    gpu_hours = len(gpus) * duration_s / 3600.0 if gpus and duration_s is not None else None
    price = ctx.get("price")
    cost = None
    if price:
        pr = Range(price["low"], price["central"], price["high"])
        if price.get("per") == "gpu_hour" and gpu_hours is not None:
            cost = pr * gpu_hours
        elif price.get("per") == "kwh" and energy is not None:
            cost = pr * energy
    flops = sum(p["flops"] or 0.0 for p in parts) if any(p["flops"] for p in parts) else None
    flop_per_s = flops / duration_s if flops is not None and duration_s else None
    peak = ctx.get("peak_flop_per_s")
    mfu = flop_per_s / (peak * len(gpus)) if flop_per_s is not None and peak and gpus else None
    labels = Counter(r.get("label") or r["device"] for r in gpus)
    hw = [f"{n} x {label}" for label, n in labels.items()]
    cpu_labels = sorted({r.get("label") for r in devices.values() if r["component"] == "cpu" and r.get("label")})
    hw += [f"CPU {label}" for label in cpu_labels]
    hosts = sorted({p["host"] for p in parts if p["host"]})
    ranges = {"it_energy_kwh": _d(it), "energy_kwh": _d(energy), "co2e_kg": _d(co2e), "cost_usd": _d(cost),
              "energy_by_component_kwh": {c: _d(r) for c, r in comp.items()}}
    provenance = {
        "method": "measured",
        "components": {c: ("measured" if k == {"measured"} else "estimated" if k == {"estimated"} else
                           "mixed (measured, then estimated after a meter failed)") for c, k in kinds.items()},
        "devices": sorted(devices),
        "ranges": ranges,
        "sources": {**ctx.get("sources", {}), **{k: v for p in parts for k, v in p["info"].get("sources", {}).items()}},
        "warnings": sorted({w for p in parts for w in p["info"].get("warnings", [])}),
        "parts": [{"rank": p["rank"], "host": p["host"], "pid": p["pid"], "status": p["status"],
                   "error": p["info"].get("error"), "exit_code": p["info"].get("exit_code")} for p in parts],
    }
    return {
        "start_ts": start, "end_ts": max((p["end_ts"] for p in parts if p["end_ts"]), default=None)
        if all(p["end_ts"] for p in parts) else None,
        "updated_ts": max((p["updated_ts"] or 0) for p in parts) if parts else None,
        "duration_s": duration_s, "host": ",".join(hosts) or None, "hardware": "; ".join(hw) or None,
        "energy_gpu_kwh": comp["gpu"].central if "gpu" in comp else None,
        "energy_cpu_kwh": comp["cpu"].central if "cpu" in comp else None,
        "energy_memory_kwh": comp["memory"].central if "memory" in comp else None,
        "it_energy_kwh": it.central if it else None,
        "energy_kwh": energy.central if energy else None, "energy_kwh_low": energy.low if energy else None,
        "energy_kwh_high": energy.high if energy else None,
        "co2e_kg": co2e.central if co2e else None, "co2e_kg_low": co2e.low if co2e else None,
        "co2e_kg_high": co2e.high if co2e else None,
        "cost_usd": cost.central if cost else None, "cost_usd_low": cost.low if cost else None,
        "cost_usd_high": cost.high if cost else None,
        "gpu_hours": gpu_hours, "flops": flops, "flop_per_s": flop_per_s, "mfu": mfu,
        "world_size": max([len(parts)] + [int(p["info"].get("world_size") or 1) for p in parts]),
        "provenance": provenance,
    }


# --- the store ----------------------------------------------------------------------------------------------------

_RETRYABLE = ("locked", "busy")


class Ledger:
    """A wattwise ledger file. `Ledger()` opens (creating if absent) the default one."""

    def __init__(self, path: str | os.PathLike | None = None, *, timeout_s: float = 60.0):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.timeout_s = timeout_s
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._host = socket.gethostname()
        self._open()

    # connection and schema
    def _check_header(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0:
            return
        with open(self.path, "rb") as f:
            head = f.read(16)
        if head != SQLITE_HEADER:
            raise LedgerError(f"{self.path} is not a wattwise ledger (not an SQLite database); it was left untouched. "
                              "Move it away or pass another path (--ledger / WATTWISE_HOME)")

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._check_header()
        con = sqlite3.connect(str(self.path), timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
        self._con = con
        try:
            con.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            self._retry(self._init_schema)
            self._retry(lambda: con.execute("PRAGMA journal_mode=WAL").fetchone())
            con.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as e:
            con.close()
            self._con = None
            raise LedgerError(f"{self.path} cannot be used as a wattwise ledger ({e}); it was left untouched. "
                              "Move it away or pass another path") from None
        except LedgerError:
            con.close()
            self._con = None
            raise

    def _init_schema(self) -> None:
        con = self._con
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            version = con.execute("PRAGMA user_version").fetchone()[0]
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            if app_id == 0 and version == 0 and not tables:
                con.execute(f"PRAGMA application_id={APPLICATION_ID}")
            elif app_id != APPLICATION_ID:
                raise LedgerError(f"{self.path} is an SQLite database of another application (application_id "
                                  f"{app_id:#x}, tables {', '.join(tables[:5]) or 'none'}); it was left untouched. "
                                  "Pass another path (--ledger / WATTWISE_HOME)")
            if version > SCHEMA_VERSION:
                raise LedgerError(f"{self.path} has ledger schema version {version}, newer than this wattwise "
                                  f"understands ({SCHEMA_VERSION}); upgrade wattwise")
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS[v].split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                con.execute(f"PRAGMA user_version={v}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _retry(self, fn):
        """Run fn, retrying 'database is locked/busy' with jittered backoff until timeout_s."""
        deadline = time.monotonic() + self.timeout_s
        delay = 0.01
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as e:
                if not any(w in str(e).lower() for w in _RETRYABLE) or time.monotonic() > deadline:
                    if any(w in str(e).lower() for w in _RETRYABLE):
                        raise LedgerError(f"{self.path}: still locked after {self.timeout_s:g} s ({e})") from None
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)

    def _tx(self, fn):
        """fn(con) inside BEGIN IMMEDIATE ... COMMIT, retried on lock contention; whole or nothing."""
        def attempt():
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                out = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return out
        with self._lock:
            if self._con is None:
                raise LedgerError(f"{self.path}: ledger is closed")
            try:
                return self._retry(attempt)
            except sqlite3.DatabaseError as e:
                raise LedgerError(f"{self.path}: {e}") from None

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # writing
    def write_part(self, run_id: str, ctx: dict, part: dict, sample: dict | None = None) -> None:
        """Insert or update one process's part of a run, append a sample, recompute the run's totals."""
        def tx(con):
            row = con.execute("SELECT context FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                con.execute("INSERT INTO runs (id, status, context) VALUES (?, 'running', '{}')", (run_id,))
            con.execute(
                "INSERT INTO run_parts (run_id, rank, host, pid, status, start_ts, end_ts, updated_ts, flops, steps, "
                "readings, info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id, rank) DO UPDATE SET "
                "host=excluded.host, pid=excluded.pid, status=excluded.status, start_ts=excluded.start_ts, "
                "end_ts=excluded.end_ts, updated_ts=excluded.updated_ts, flops=excluded.flops, steps=excluded.steps, "
                "readings=excluded.readings, info=excluded.info",
                (run_id, int(part.get("rank", 0)), part.get("host"), part.get("pid"), part["status"],
                 part.get("start_ts"), part.get("end_ts"), part.get("updated_ts"), part.get("flops"),
                 part.get("steps"), json.dumps(part.get("readings", [])), json.dumps(part.get("info", {}))))
            if sample is not None:
                con.execute("INSERT INTO samples (run_id, rank, t_s, energy_gpu_j, energy_cpu_j, energy_memory_j, "
                            "flops) VALUES (?,?,?,?,?,?,?)",
                            (run_id, int(part.get("rank", 0)), sample["t_s"], sample.get("energy_gpu_j"),
                             sample.get("energy_cpu_j"), sample.get("energy_memory_j"), sample.get("flops")))
            parts = self._parts(con, run_id)
            self._update_run(con, run_id, ctx, parts)
        self._tx(tx)

    def _update_run(self, con, run_id: str, ctx: dict, parts: list[dict]) -> None:
        cols = aggregate(parts, ctx)
        cols["provenance"] = json.dumps(cols["provenance"])
        cols.update(name=ctx.get("name"), project=ctx.get("project"), tags=json.dumps(list(ctx.get("tags") or [])),
                    status=combine_status(p["status"] for p in parts), region=ctx.get("region"),
                    pue=(ctx.get("pue") or {}).get("central"),
                    intensity_g_per_kwh=(ctx.get("intensity_g_per_kwh") or {}).get("central"),
                    context=json.dumps(ctx))
        names = sorted(cols)
        con.execute(f"UPDATE runs SET {', '.join(f'{n}=?' for n in names)} WHERE id=?",
                    [cols[n] for n in names] + [run_id])

    @staticmethod
    def _parts(con, run_id: str) -> list[dict]:
        cur = con.execute("SELECT rank, host, pid, status, start_ts, end_ts, updated_ts, flops, steps, readings, info "
                          "FROM run_parts WHERE run_id=? ORDER BY rank", (run_id,))
        return [{"rank": r[0], "host": r[1], "pid": r[2], "status": r[3], "start_ts": r[4], "end_ts": r[5],
                 "updated_ts": r[6], "flops": r[7], "steps": r[8], "readings": json.loads(r[9]),
                 "info": json.loads(r[10])} for r in cur.fetchall()]

    def delete(self, run_id: str) -> None:
        def tx(con):
            for table, col in (("samples", "run_id"), ("run_parts", "run_id"), ("runs", "id")):
                con.execute(f"DELETE FROM {table} WHERE {col}=?", (run_id,))
        self._tx(tx)

    # reading
    def _query(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            if self._con is None:
                raise LedgerError(f"{self.path}: ledger is closed")
            try:
                cur = self._retry(lambda: self._con.execute(sql, args))
                cols = [c[0] for c in cur.description]
                return [dict(zip(cols, row)) for row in cur.fetchall()]
            except sqlite3.DatabaseError as e:
                raise LedgerError(f"{self.path}: {e}") from None

    def runs(self, project: str | None = None, tag: str | None = None, ids: Iterable[str] | None = None,
             status: str | None = None) -> list[dict]:
        """Run records (oldest first), optionally filtered by project, tag, ids or (reported) status."""
        sql, args = "SELECT * FROM runs", []
        where = []
        if project is not None:
            where.append("project=?")
            args.append(project)
        if ids is not None:
            ids = list(ids)
            where.append(f"id IN ({','.join('?' * len(ids))})" if ids else "0")
            args.extend(ids)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_ts, id"
        recs = [self._record(r) for r in self._query(sql, args)]
        if tag is not None:
            recs = [r for r in recs if tag in r["tags"]]
        if status is not None:
            recs = [r for r in recs if r["status"] == status]
        return recs

    def run(self, run_id: str) -> dict:
        """One run record; a unique id prefix is accepted."""
        rows = self._query("SELECT * FROM runs WHERE id=?", (run_id,))
        if not rows:
            rows = self._query("SELECT * FROM runs WHERE id LIKE ? ORDER BY id LIMIT 3",
                               (run_id.replace("%", "").replace("_", "\\_") + "%",))
            if len(rows) != 1:
                from .errors import closest
                known = [r["id"] for r in self._query("SELECT id FROM runs ORDER BY start_ts DESC LIMIT 200")]
                hint = closest(run_id, known)
                raise LedgerError(f"no run {run_id!r} in {self.path}" + (
                    f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else
                    " (`wattwise runs list` shows the ids)" if len(rows) == 0 else f"; the prefix matches several"))
        return self._record(rows[0])

    def samples(self, run_id: str) -> list[dict]:
        """Checkpoint samples of a run (cumulative energy per component of each rank), in time order."""
        rid = self.run(run_id)["id"]
        return self._query("SELECT rank, t_s, energy_gpu_j, energy_cpu_j, energy_memory_j, flops FROM samples "
                           "WHERE run_id=? ORDER BY rank, t_s", (rid,))

    def parts(self, run_id: str) -> list[dict]:
        with self._lock:
            return self._parts(self._con, self.run(run_id)["id"])

    def count(self) -> int:
        return self._query("SELECT count(*) AS n FROM runs")[0]["n"]

    def _record(self, row: dict) -> dict:
        rec = dict(row)
        rec["tags"] = json.loads(rec["tags"] or "[]")
        rec["provenance"] = json.loads(rec["provenance"] or "{}")
        rec["context"] = json.loads(rec.pop("context") or "{}")
        if rec["status"] == "running":
            now = time.time()
            statuses = []
            for p in rec["provenance"].get("parts", []):
                p = dict(p, info={"interval_s": rec["context"].get("interval_s")}, updated_ts=rec["updated_ts"])
                statuses.append(_part_status(p, now, self._host))
            if statuses:
                rec["status"] = combine_status(statuses)
        for k in ("start", "end"):
            ts = rec.get(f"{k}_ts")
            rec[k] = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(ts)) if ts else None
        return rec


# --- record -> footprint ------------------------------------------------------------------------------------------

def to_footprint(record: dict) -> Footprint:
    """The Footprint of a run record (method 'measured'; estimated components are named in `sources`)."""
    prov, ctx = record.get("provenance", {}), record.get("context", {})
    rg = prov.get("ranges", {})
    ranges: dict[str, Range] = {}
    if record.get("duration_s") is not None:
        ranges["duration_s"] = Range.point(record["duration_s"])
    for q in ("energy_kwh", "co2e_kg", "cost_usd"):
        r = _rng(rg.get(q))
        if r is not None:
            ranges[q] = r
    if record.get("gpu_hours") is not None:
        ranges["gpu_hours"] = Range.point(record["gpu_hours"])
    if record.get("flops") is not None:
        ranges["flops"] = Range.point(record["flops"])
    sources = dict(prov.get("sources", {}))
    for c, kind in prov.get("components", {}).items():
        sources[f"energy_{c}"] = f"{kind}: " + sources.get(f"energy_{c}", "")
    missing = {}
    if "co2e_kg" not in ranges:
        missing["co2e_kg"] = "no grid intensity"
    if "cost_usd" not in ranges:
        missing["cost_usd"] = "no price: give a GPU with catalog prices or usd_per_kwh"
    return Footprint(
        ranges=ranges, it_energy_kwh=_rng(rg.get("it_energy_kwh")),
        energy_by_component_kwh={c: _rng(r) for c, r in rg.get("energy_by_component_kwh", {}).items() if r},
        pue=_rng(ctx.get("pue")), intensity_g_per_kwh=_rng(ctx.get("intensity_g_per_kwh")), method="measured",
        hardware=record.get("hardware"), zone=record.get("region"),
        inputs={"name": record.get("name"), "project": record.get("project"), "tags": record.get("tags")},
        sources=sources, missing=missing,
        extra={"run_id": record["id"], "status": record["status"], "mfu": record.get("mfu"),
               "flop_per_s": record.get("flop_per_s"), "world_size": record.get("world_size")})


def footprint(run_id: str, path: str | os.PathLike | None = None) -> Footprint:
    """Footprint of one run of the ledger at `path` (default ledger if None)."""
    with Ledger(path) as led:
        return to_footprint(led.run(run_id))
