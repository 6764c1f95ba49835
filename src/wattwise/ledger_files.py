"""The SQLite file behind a Ledger: checking that a path can be a ledger, creating it private, connecting
(read-write for writers, read-only or immutable for readers), the schema, retries on lock contention and the
transaction wrapper, and a warning for network filesystems. Mixed into `wattwise.ledger.Ledger`."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

from . import ledger_schema as _schema
from .ledger_schema import SQLITE_HEADER, LedgerError

_RETRYABLE = ("locked", "busy")




class SqliteFile:
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

    def _check_path(self) -> None:
        """A clear LedgerError for a path that cannot be a ledger file, before anything is created."""
        p = self.path
        if p.is_dir():
            raise LedgerError(f"{p} is a folder, not a ledger file: pass a file path (--ledger / WATTWISE_HOME)")
        for parent in p.parents:
            if parent.exists():
                if not parent.is_dir():
                    home = os.environ.get("WATTWISE_HOME")
                    why = (f" (WATTWISE_HOME={home} is a file, not a folder)"
                           if home and Path(home).expanduser() == parent else "")
                    raise LedgerError(f"cannot use ledger {p}: {parent} is a file, not a folder{why}")
                break
        if not self.create and not p.exists():
            raise LedgerError(f"no ledger at {p}: nothing has been recorded there (wattwise run and Tracker record "
                              "runs; --ledger or WATTWISE_HOME choose the file)")

    def _open(self) -> None:
        self._check_path()
        if self.create:
            self._create_private()
        self._check_header()
        con = self._connect()
        self._con = con
        try:
            con.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            if self.create:
                self._retry(self._init_schema)
                self._retry(lambda: con.execute("PRAGMA journal_mode=WAL").fetchone())
                con.execute("PRAGMA synchronous=NORMAL")
                # the WAL is folded back into the database every ~1,000 pages and truncated to 4 MiB after it
                con.execute("PRAGMA wal_autocheckpoint=1000")
                con.execute(f"PRAGMA journal_size_limit={4 * 1024 * 1024}")
            else:
                self._check_readable_schema()
        except sqlite3.DatabaseError as e:
            con.close()
            self._con = None
            raise LedgerError(f"{self.path} cannot be used as a wattwise ledger ({e}); it was left untouched. "
                              "Move it away or pass another path") from None
        except LedgerError:
            con.close()
            self._con = None
            raise
        if self.create:
            _warn_network_fs(self.path)
        if self.create:   # checkpoints that found this ledger locked earlier: written now
            from .tracker.spool import flush
            flush(self)

    def _create_private(self) -> None:
        """The folder (0700) and an empty ledger file (0600) when they do not exist: runs name hosts, commands
        and projects, so other users of the machine cannot read them by default."""
        folder = self.path.parent
        try:
            if not folder.exists():
                folder.mkdir(parents=True, mode=0o700)
                os.chmod(folder, 0o700)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.close(fd)
        except FileExistsError:
            pass
        except OSError as e:
            raise LedgerError(f"cannot create the ledger {self.path}: {e.strerror or e}") from None

    def _connect(self) -> sqlite3.Connection:
        """Read-write for writers; read-only (`mode=ro`, else `immutable=1` on a read-only mount or another user's
        file) for read commands, which never create, migrate or lock the file."""
        kw = dict(timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
        if self.create:
            try:
                return sqlite3.connect(str(self.path), **kw)
            except sqlite3.OperationalError as e:
                raise LedgerError(f"cannot open the ledger {self.path}: {e}") from None
        uri = self.path.resolve().as_uri()
        last = None
        # no -wal file: no writer has the ledger open, and a read-only WAL connection would leave -wal/-shm
        # files behind: read it as immutable. Otherwise read-only next to the live writer.
        live = Path(str(self.path) + "-wal").exists()
        for q in (("?mode=ro", "?mode=ro&immutable=1") if live else ("?mode=ro&immutable=1", "?mode=ro")):
            try:
                con = sqlite3.connect(uri + q, uri=True, **kw)
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return con
            except sqlite3.DatabaseError as e:
                last = e
                try:
                    con.close()
                except Exception:  # noqa: BLE001
                    pass
        raise LedgerError(f"cannot read the ledger {self.path}: {last}") from None

    def _check_readable_schema(self) -> None:
        con = self._con
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if app_id != _schema.APPLICATION_ID:
            raise LedgerError(f"{self.path} is not a wattwise ledger (application_id {app_id:#x}); it was left "
                              "untouched")
        if version > _schema.SCHEMA_VERSION:
            raise LedgerError(f"{self.path} has ledger schema version {version}, newer than this wattwise "
                              f"understands ({_schema.SCHEMA_VERSION}); upgrade wattwise")
        if version < _schema.SCHEMA_VERSION:
            if os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK):
                type(self)(self.path, timeout_s=self.timeout_s).close()   # upgrade in place once, then read
                con.close()   # (an immutable connection would keep the old schema)
                self._con = self._connect()
            else:
                raise LedgerError(f"{self.path} has ledger schema version {version}; this wattwise reads version "
                                  f"{_schema.SCHEMA_VERSION}: open it once with write access to upgrade it")

    def _init_schema(self) -> None:
        con = self._con
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if app_id == _schema.APPLICATION_ID and version == _schema.SCHEMA_VERSION:
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            version = con.execute("PRAGMA user_version").fetchone()[0]
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            if app_id == 0 and version == 0 and not tables:
                con.execute(f"PRAGMA application_id={_schema.APPLICATION_ID}")
            elif app_id != _schema.APPLICATION_ID:
                raise LedgerError(f"{self.path} is an SQLite database of another application (application_id "
                                  f"{app_id:#x}, tables {', '.join(tables[:5]) or 'none'}); it was left untouched. "
                                  "Pass another path (--ledger / WATTWISE_HOME)")
            if version > _schema.SCHEMA_VERSION:
                raise LedgerError(f"{self.path} has ledger schema version {version}, newer than this wattwise "
                                  f"understands ({_schema.SCHEMA_VERSION}); upgrade wattwise")
            for v in range(version + 1, _schema.SCHEMA_VERSION + 1):
                for stmt in _schema.MIGRATIONS[v].split(";"):
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

    @property
    def closed(self) -> bool:
        return self._con is None

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()



_NETWORK_FS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "fuse.sshfs", "9p", "afs",
               "ceph", "fuse.glusterfs", "glusterfs", "panfs", "fuse.s3fs")
_WARNED_FS: set[str] = set()


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding `path` (Linux /proc/mounts; None elsewhere)."""
    try:
        target = os.path.realpath(path)
        best, kind = "", None
        with open("/proc/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 3:
                    continue
                mnt = fields[1].replace("\\040", " ")
                if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, kind = mnt, fields[2]
        return kind
    except OSError:
        return None


def _warn_network_fs(path: Path) -> None:
    """SQLite's locks are unreliable on network filesystems: writers on several hosts can corrupt the file."""
    kind = filesystem_type(path)
    if kind and kind.lower() in _NETWORK_FS and str(path) not in _WARNED_FS:
        _WARNED_FS.add(str(path))
        import warnings
        warnings.warn(f"wattwise: the ledger {path} is on a network filesystem ({kind}): SQLite's locking is not "
                      "safe there for writers on several hosts. Use a PostgreSQL ledger (WATTWISE_LEDGER="
                      "postgresql://...) or a local file per node and `wattwise runs merge`", RuntimeWarning,
                      stacklevel=4)


