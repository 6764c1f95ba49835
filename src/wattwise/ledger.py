"""The ledger: an embedded SQLite store of measured runs and their samples.

- Default path: `$WATTWISE_HOME/ledger.db`, else `~/.wattwise/ledger.db`; any path can be passed instead.
- WAL journal, `busy_timeout` and retries: many processes (ranks, parallel jobs) may write at once.
- Versioned schema (`PRAGMA user_version`) with forward migrations; `PRAGMA application_id` marks the file
  as a wattwise ledger. A corrupt or foreign file raises `LedgerError` and is never overwritten.
- Records are written whole: every write is one transaction (a part, its sample and, when due, the run's totals).
- Backends: this SQLite file (the embedded default) or a PostgreSQL server (`Ledger("postgresql://...")`,
  wattwise.ledger_pg): same schema versions, same records.

Write volume (schema 3): a checkpoint of a running part writes only that part and its sample. The run's index
columns and its large JSON documents (context, provenance, footprint: side table `run_docs`) are rewritten on the
first write of a part, when a part's status or the context changes, on a final write, and at most every
`FULL_EVERY_S` seconds (of the parts' clock) otherwise. Readers rebuild a running run whose parts are newer than
its stored totals from those parts, with the same arithmetic: every reader sees what a full write would store.

A run is written by one or more *parts* (one per process; ranks of a torchrun job share the run id). The
run's totals are recomputed from its parts at every write, counting each physical device once: readings
with the same device key (host + GPU UUID, host + RAPL zone) from several parts are merged (largest wins).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable

from .constants import J_PER_KWH  # noqa: F401 (re-exported for older importers)
from .footprint import Footprint
from .ledger_files import SqliteFile, _warn_network_fs, filesystem_type  # noqa: F401 (re-exported)
from .ledger_rows import _c, _part_status, index_columns, to_footprint  # noqa: F401 (to_footprint: re-exported)
from .ledger_schema import (  # noqa: F401 (re-exported)
    APPLICATION_ID,
    FULL_EVERY_S,
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLITE_HEADER,
    LedgerError,
    RunIdTaken,
)
from .measured import STATUSES, combine_status, footprint_from_parts  # noqa: F401 (re-exported)


def default_path() -> Path:
    """`$WATTWISE_HOME/ledger.db`, else `~/.wattwise/ledger.db` (resolved by wattwise.tracker.config)."""
    from .tracker.config import default_ledger_path
    return default_ledger_path()


def is_url(path) -> bool:
    """A `postgresql://` (or `postgres://`) URL rather than a file path."""
    return isinstance(path, str) and path.split("://", 1)[0].lower() in ("postgresql", "postgres")


def resolve_target(path=None):
    """What `Ledger(path)` opens: `path`, else `$WATTWISE_LEDGER` (a path or a URL), else default_path()."""
    if path is None:
        env = os.environ.get("WATTWISE_LEDGER")
        return env if env else default_path()
    return os.fspath(path) if not isinstance(path, str) and hasattr(path, "__fspath__") else path


def aggregate(parts: list[dict], ctx: dict) -> dict[str, Any]:
    """Run columns from its parts (kept for callers of schema 1; the footprint is wattwise.measured's)."""
    return index_columns(footprint_from_parts(parts, ctx))


# --- the store ----------------------------------------------------------------------------------------------------

class Ledger(SqliteFile):
    """A wattwise ledger file. `Ledger()` opens (creating if absent) the default one (`$WATTWISE_LEDGER`, else
    `<home>/ledger.db`); a `postgresql://` URL opens a PostgreSQL ledger (wattwise.ledger_pg.PgLedger)."""

    backend = "sqlite"
    _WINDOW_ORDER = "rowid"

    def __new__(cls, path=None, *args, **kwargs):
        if cls is Ledger and is_url(resolve_target(path)):
            from .ledger_pg import PgLedger
            return super().__new__(PgLedger)
        return super().__new__(cls)

    def __init__(self, path: str | os.PathLike | None = None, *, timeout_s: float = 60.0, create: bool = True):
        """`create=False` (read commands): the file must exist already; nothing is created."""
        target = resolve_target(path)
        self.path = Path(target).expanduser()
        self.timeout_s = timeout_s
        self.create = create
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None
        self._host = socket.gethostname()
        self._open()

    # writing
    def write_part(self, run_id: str, ctx: dict, part: dict, sample: dict | None = None, *,
                   claim: bool = False) -> None:
        """Insert or update one process's part of a run and append a sample; the run's totals and documents
        are rewritten when due (see the module docstring). `claim`: the first write of a run whose id was
        generated: RunIdTaken if another process (host, pid, start) already holds that part, so two jobs never
        merge into one row."""
        self._tx(lambda con: self._write_part_tx(con, run_id, ctx, part, sample, claim))

    def _write_part_tx(self, con, run_id: str, ctx: dict, part: dict, sample: dict | None, claim: bool) -> None:
        rank = int(part.get("rank", 0))
        run = self._lock_run(con, run_id)
        held = con.execute("SELECT host, pid, start_ts, status FROM run_parts WHERE run_id=? AND rank=?",
                           (run_id, rank)).fetchone()
        if claim and held is not None and tuple(held[:3]) != (part.get("host"), part.get("pid"),
                                                              part.get("start_ts")):
            raise RunIdTaken(f"run id {run_id} is already taken by {held[0]} pid {held[1]}")
        ctx_json = json.dumps(ctx)
        if run is None:
            self._insert_run(con, run_id)
            full = True
        else:
            full = (held is None or held[3] != part["status"] or part["status"] != "running"
                    or run[0] != "running" or run[1] is None or part.get("updated_ts") is None
                    or float(part["updated_ts"]) - float(run[1]) >= FULL_EVERY_S)
            if not full:
                doc = con.execute("SELECT context FROM run_docs WHERE run_id=?", (run_id,)).fetchone()
                full = doc is None or doc[0] != ctx_json
        con.execute(
            "INSERT INTO run_parts (run_id, rank, host, pid, status, start_ts, end_ts, updated_ts, flops, steps, "
            "readings, info, folded) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id, rank) DO UPDATE SET "
            "host=excluded.host, pid=excluded.pid, status=excluded.status, start_ts=excluded.start_ts, "
            "end_ts=excluded.end_ts, updated_ts=excluded.updated_ts, flops=excluded.flops, steps=excluded.steps, "
            "readings=excluded.readings, info=excluded.info, folded=excluded.folded",
            (run_id, rank, part.get("host"), part.get("pid"), part["status"],
             part.get("start_ts"), part.get("end_ts"), part.get("updated_ts"), part.get("flops"),
             part.get("steps"), json.dumps(part.get("readings", [])), json.dumps(part.get("info", {})),
             1 if full else 0))
        if sample is not None:
            con.execute("INSERT INTO samples (run_id, rank, t_s, energy_gpu_j, energy_cpu_j, energy_memory_j, "
                        "flops) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                        (run_id, rank, sample["t_s"], sample.get("energy_gpu_j"),
                         sample.get("energy_cpu_j"), sample.get("energy_memory_j"), sample.get("flops")))
        if full:
            con.execute("UPDATE run_parts SET folded=1 WHERE run_id=? AND folded=0", (run_id,))
            self._update_run(con, run_id, ctx, self._parts(con, run_id), ctx_json)

    @staticmethod
    def _lock_run(con, run_id: str):
        """(status, updated_ts) of the run row, or None (the SQLite write transaction already serialises)."""
        return con.execute("SELECT status, updated_ts FROM runs WHERE id=?", (run_id,)).fetchone()

    @staticmethod
    def _insert_run(con, run_id: str) -> None:
        con.execute("INSERT INTO runs (id, status, context) VALUES (?, 'running', '{}')", (run_id,))

    @staticmethod
    def _run_columns(run_id: str, ctx: dict, parts: list[dict]) -> tuple[dict, dict]:
        """(index columns, documents) of a run from its parts: what a full write stores."""
        status = combine_status(p["status"] for p in parts)
        fp = footprint_from_parts(parts, ctx, run_id=run_id, status=status)
        cols = index_columns(fp)
        docs = {"provenance": json.dumps(cols.pop("provenance")), "footprint": json.dumps(fp.to_dict())}
        cols.update(name=ctx.get("name"), project=ctx.get("project"), tags=json.dumps(list(ctx.get("tags") or [])),
                    status=status, region=ctx.get("region"), pue=_c(fp.pue),
                    intensity_g_per_kwh=_c(fp.intensity_g_per_kwh))
        return cols, docs

    def _update_run(self, con, run_id: str, ctx: dict, parts: list[dict], ctx_json: str | None = None) -> None:
        cols, docs = self._run_columns(run_id, ctx, parts)
        names = sorted(cols)
        con.execute(f"UPDATE runs SET {', '.join(f'{n}=?' for n in names)} WHERE id=?",
                    [cols[n] for n in names] + [run_id])
        con.execute("INSERT INTO run_docs (run_id, context, provenance, footprint) VALUES (?,?,?,?) "
                    "ON CONFLICT(run_id) DO UPDATE SET context=excluded.context, provenance=excluded.provenance, "
                    "footprint=excluded.footprint",
                    (run_id, ctx_json if ctx_json is not None else json.dumps(ctx), docs["provenance"],
                     docs["footprint"]))

    def merge_run(self, rec: dict, parts: list[dict], samples: list[dict], windows: list[dict]) -> None:
        """Copy one run of another ledger (its record, parts, samples, windows) under the same id, in one
        transaction; idempotent (a part is replaced by the other's copy, samples and windows already here are
        not added twice)."""
        run_id, ctx = rec["id"], rec.get("context") or {}

        def tx(con):
            if self._lock_run(con, run_id) is None:
                self._insert_run(con, run_id)
            for p in parts:
                con.execute(
                    "INSERT INTO run_parts (run_id, rank, host, pid, status, start_ts, end_ts, updated_ts, flops, "
                    "steps, readings, info, folded) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1) ON CONFLICT(run_id, rank) "
                    "DO UPDATE SET host=excluded.host, pid=excluded.pid, status=excluded.status, "
                    "start_ts=excluded.start_ts, end_ts=excluded.end_ts, updated_ts=excluded.updated_ts, "
                    "flops=excluded.flops, steps=excluded.steps, readings=excluded.readings, info=excluded.info, "
                    "folded=1",
                    (run_id, int(p.get("rank", 0)), p.get("host"), p.get("pid"), p["status"], p.get("start_ts"),
                     p.get("end_ts"), p.get("updated_ts"), p.get("flops"), p.get("steps"),
                     json.dumps(p.get("readings", [])), json.dumps(p.get("info", {}))))
            for sm in samples:
                con.execute("INSERT INTO samples (run_id, rank, t_s, energy_gpu_j, energy_cpu_j, energy_memory_j, "
                            "flops) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                            (run_id, sm["rank"], sm["t_s"], sm.get("energy_gpu_j"), sm.get("energy_cpu_j"),
                             sm.get("energy_memory_j"), sm.get("flops")))
            for w in windows:
                fpj = json.dumps(w.get("footprint") or {})
                same = con.execute("SELECT count(*) FROM windows WHERE run_id=? AND rank=? AND name=? AND "
                                   "start_ts IS ? AND end_ts IS ?" if self.backend == "sqlite" else
                                   "SELECT count(*) FROM windows WHERE run_id=? AND rank=? AND name=? AND "
                                   "start_ts IS NOT DISTINCT FROM ? AND end_ts IS NOT DISTINCT FROM ?",
                                   (run_id, int(w.get("rank") or 0), w["name"], w.get("start_ts"),
                                    w.get("end_ts"))).fetchone()[0]
                if not same:
                    con.execute("INSERT INTO windows (run_id, rank, name, start_ts, end_ts, status, footprint) "
                                "VALUES (?,?,?,?,?,?,?)", (run_id, int(w.get("rank") or 0), w["name"],
                                                           w.get("start_ts"), w.get("end_ts"),
                                                           w.get("status") or "ok", fpj))
            all_parts = self._parts(con, run_id)
            if all_parts:
                self._update_run(con, run_id, ctx, all_parts)
        self._tx(tx)

    def write_window(self, run_id: str, window: dict) -> None:
        """Record one closed window of a run: name, rank, start_ts, end_ts, status, footprint (a dict)."""
        def tx(con):
            con.execute("INSERT INTO windows (run_id, rank, name, start_ts, end_ts, status, footprint) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (run_id, int(window.get("rank") or 0), str(window["name"]), window.get("start_ts"),
                         window.get("end_ts"), window.get("status") or "ok",
                         json.dumps(window.get("footprint") or {})))
        self._tx(tx)

    def windows(self, run_id: str) -> list[dict]:
        """The windows recorded under a run (a unique id prefix is accepted), in start order; each with its
        footprint as a dict (`Footprint.from_dict` rebuilds it)."""
        rid = self.run(run_id)["id"]
        rows = self._query("SELECT rank, name, start_ts, end_ts, status, footprint FROM windows WHERE run_id=? "
                           f"ORDER BY start_ts, {self._WINDOW_ORDER}", (rid,))
        for r in rows:
            r["footprint"] = json.loads(r["footprint"] or "{}")
        return rows

    @staticmethod
    def _parts(con, run_id: str) -> list[dict]:
        cur = con.execute("SELECT rank, host, pid, status, start_ts, end_ts, updated_ts, flops, steps, readings, info "
                          "FROM run_parts WHERE run_id=? ORDER BY rank", (run_id,))
        return [{"rank": r[0], "host": r[1], "pid": r[2], "status": r[3], "start_ts": r[4], "end_ts": r[5],
                 "updated_ts": r[6], "flops": r[7], "steps": r[8], "readings": json.loads(r[9]),
                 "info": json.loads(r[10])} for r in cur.fetchall()]

    def delete(self, run_id: str) -> None:
        def tx(con):
            for table, col in (("samples", "run_id"), ("run_parts", "run_id"), ("windows", "run_id"),
                               ("run_docs", "run_id"), ("runs", "id")):
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
        sql, args = self._SELECT_RUNS, []
        where = []
        if project is not None:
            where.append("r.project=?")
            args.append(project)
        if ids is not None:
            ids = list(ids)
            where.append(f"r.id IN ({','.join('?' * len(ids))})" if ids else "1=0")
            args.extend(ids)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY r.start_ts, r.id"
        recs = [self._record(r) for r in self._query(sql, args)]
        if tag is not None:
            recs = [r for r in recs if tag in r["tags"]]
        if status is not None:
            recs = [r for r in recs if r["status"] == status]
        return recs

    def run(self, run_id: str) -> dict:
        """One run record; a unique id prefix is accepted."""
        rows = self._query(self._SELECT_RUNS + " WHERE r.id=?", (run_id,))
        if not rows:
            rows = self._query(self._SELECT_RUNS + " WHERE r.id LIKE ? ORDER BY r.id LIMIT 3",
                               (run_id.replace("%", "").replace("_", "\\_") + "%",))
            if len(rows) != 1:
                from .errors import closest
                known = [r["id"] for r in self._query("SELECT id FROM runs ORDER BY start_ts DESC LIMIT 200")]
                hint = closest(run_id, known)
                raise LedgerError(f"no run {run_id!r} in {self.path}" + (
                    f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else
                    " (`wattwise runs list` shows the ids)" if len(rows) == 0 else "; the prefix matches several"))
        return self._record(rows[0])

    def footprint(self, run_id: str) -> Footprint:
        """The Footprint of one run (a unique id prefix is accepted)."""
        return to_footprint(self.run(run_id))

    def footprints(self, **filters) -> list[Footprint]:
        """Footprints of the runs `runs(**filters)` selects (project, tag, ids, status), oldest first."""
        return [to_footprint(r) for r in self.runs(**filters)]

    def samples(self, run_id: str) -> list[dict]:
        """Checkpoint samples of a run (cumulative energy per component of each rank), in time order."""
        rid = self.run(run_id)["id"]
        return self._query("SELECT rank, t_s, energy_gpu_j, energy_cpu_j, energy_memory_j, flops FROM samples "
                           "WHERE run_id=? ORDER BY rank, t_s", (rid,))

    def parts(self, run_id: str) -> list[dict]:
        return self._parts_of(self.run(run_id)["id"])

    def _parts_of(self, rid: str) -> list[dict]:
        rows = self._query("SELECT rank, host, pid, status, start_ts, end_ts, updated_ts, flops, steps, readings, "
                           "info FROM run_parts WHERE run_id=? ORDER BY rank", (rid,))
        for r in rows:
            r["readings"], r["info"] = json.loads(r["readings"]), json.loads(r["info"])
        return rows

    def count(self) -> int:
        return self._query("SELECT count(*) AS n FROM runs")[0]["n"]

    # the run row, its documents, and (for a running run) how many parts were written after its totals
    _SELECT_RUNS = ("SELECT r.*, d.context AS context, d.provenance AS provenance, d.footprint AS footprint, "
                    "CASE WHEN r.status='running' THEN (SELECT count(*) FROM run_parts p "
                    "WHERE p.run_id=r.id AND p.folded=0) END AS unfolded FROM runs r "
                    "LEFT JOIN run_docs d ON d.run_id=r.id")

    def _record(self, row: dict) -> dict:
        rec = dict(row)
        if rec.pop("unfolded", None):
            # checkpoints since the last full write: the totals a full write would store, from the parts
            ctx = json.loads(rec.get("context") or "{}")
            parts = self._parts_of(rec["id"])
            if parts:
                cols, docs = self._run_columns(rec["id"], ctx, parts)
                rec.update(cols, **docs)
        rec["tags"] = json.loads(rec["tags"] or "[]")
        rec["provenance"] = json.loads(rec["provenance"] or "{}")
        rec["context"] = json.loads(rec.pop("context") or "{}")
        rec["footprint"] = json.loads(rec.get("footprint") or "null")
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


def merge(sources: Iterable, into) -> dict[str, int]:
    """Copy every run of the `sources` ledgers (paths or URLs) into `into` (a path, URL or open Ledger), ids
    kept; idempotent. Returns counts: runs, samples, windows."""
    sources = list(sources)
    for src in sources:   # every source readable before the destination is created or touched
        Ledger(src, create=False).close()
    own = not isinstance(into, Ledger)
    dest = Ledger(into) if own else into
    n = {"runs": 0, "samples": 0, "windows": 0}
    try:
        for src in sources:
            with Ledger(src, create=False) as s:
                for rec in s.runs():
                    rid = rec["id"]
                    samples, windows = s.samples(rid), s.windows(rid)
                    dest.merge_run(rec, s.parts(rid), samples, windows)
                    n["runs"] += 1
                    n["samples"] += len(samples)
                    n["windows"] += len(windows)
    finally:
        if own:
            dest.close()
    return n


# --- record -> footprint ------------------------------------------------------------------------------------------

def footprint(run_id: str, path: str | os.PathLike | None = None) -> Footprint:
    """Footprint of one run of the ledger at `path` (default ledger if None)."""
    with Ledger(path) as led:
        return to_footprint(led.run(run_id))
