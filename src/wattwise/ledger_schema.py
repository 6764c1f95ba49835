"""The ledger's on-disk definitions, shared by the SQLite and PostgreSQL backends: identifiers, versioned schema
and its forward migrations, and the ledger's errors."""

from __future__ import annotations

from .errors import WattwiseError

APPLICATION_ID = 0x57415454  # 'WATT'
SCHEMA_VERSION = 3
FULL_EVERY_S = 30.0   # a running run's stored totals are refreshed at least this often (parts' clock)
SQLITE_HEADER = b"SQLite format 3\x00"


class LedgerError(WattwiseError):
    """The ledger file cannot be used (corrupt, foreign, newer schema, locked for too long)."""


class RunIdTaken(LedgerError):
    """A new run's id is already held by another process's part (ids are random: practically never)."""


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

# schema 2: the run's footprint as JSON (Footprint.to_dict) next to the index columns; named windows of a run
_V2 = """
ALTER TABLE runs ADD COLUMN footprint TEXT;
CREATE TABLE windows (
    run_id TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0, name TEXT NOT NULL,
    start_ts REAL, end_ts REAL, status TEXT NOT NULL DEFAULT 'ok',
    footprint TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX windows_run ON windows(run_id, start_ts);
"""

# schema 3: the large JSON documents of a run in a side table (checkpoints no longer rewrite them); samples keyed
# by (run, rank, time) without a rowid: one b-tree, and a replayed checkpoint adds no second sample; a part's
# `folded` is 0 when it was written after the run's stored totals (readers rebuild those runs from their parts)
_V3 = """
CREATE TABLE run_docs (
    run_id TEXT PRIMARY KEY,
    context TEXT NOT NULL DEFAULT '{}', provenance TEXT NOT NULL DEFAULT '{}', footprint TEXT
);
INSERT INTO run_docs (run_id, context, provenance, footprint) SELECT id, context, provenance, footprint FROM runs;
UPDATE runs SET context='{}', provenance='{}', footprint=NULL;
CREATE TABLE samples_v3 (
    run_id TEXT NOT NULL, rank INTEGER NOT NULL, t_s REAL NOT NULL,
    energy_gpu_j REAL, energy_cpu_j REAL, energy_memory_j REAL, flops REAL,
    PRIMARY KEY (run_id, rank, t_s)
) WITHOUT ROWID;
INSERT OR IGNORE INTO samples_v3 SELECT run_id, rank, t_s, energy_gpu_j, energy_cpu_j, energy_memory_j, flops
    FROM samples ORDER BY rowid;
DROP TABLE samples;
ALTER TABLE samples_v3 RENAME TO samples;
ALTER TABLE run_parts ADD COLUMN folded INTEGER NOT NULL DEFAULT 1
"""

# version -> SQL that brings a ledger from version-1 to version (applied in order, each in one transaction)
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3}


