"""Checkpoints that could not reach the ledger (locked past the deadline, disk full, server gone) wait here,
one file per run part (`<home>/spool/<run id>.<rank>.json`, the newest part replacing the older: parts are
cumulative), and are written by the next process that opens that ledger for writing. Nothing measured is lost
because the ledger was busy, and the job is never held for it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def spool_dir() -> Path:
    from .config import home
    return home() / "spool"


def _key(target) -> str:
    """How a spooled part names its ledger: a PostgreSQL URL as given, a file by its resolved path."""
    from ..ledger import is_url
    t = str(target)
    return t if is_url(t) else str(Path(t).expanduser().resolve())


def _name(run_id: str, rank: int) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return f"{safe}.{int(rank)}.json"


def spool(ledger_path: str | os.PathLike, run_id: str, ctx: dict, part: dict, windows: list[dict]) -> Path:
    """Keep one part (and its not yet written windows) for `ledger_path`; atomic, private (0600)."""
    from ..files import atomic_write_text
    d = spool_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = d / _name(run_id, part.get("rank", 0))
    old_windows: list[dict] = []
    try:
        old_windows = json.loads(path.read_text()).get("windows", [])
    except (OSError, ValueError):
        pass
    body = {"ledger": _key(ledger_path), "run_id": run_id, "context": ctx, "part": part,
            "windows": old_windows + list(windows)}
    atomic_write_text(path, json.dumps(body, default=str))
    os.chmod(path, 0o600)
    return path


def drop(run_id: str, rank: int) -> None:
    try:
        (spool_dir() / _name(run_id, rank)).unlink()
    except OSError:
        pass


def pending(ledger_path: str | os.PathLike) -> list[tuple[Path, dict[str, Any]]]:
    """The spooled parts waiting for `ledger_path`."""
    target = _key(ledger_path)
    out = []
    d = spool_dir()
    if not d.is_dir():
        return out
    for p in sorted(d.glob("*.json")):
        try:
            body = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if body.get("ledger") == target:
            out.append((p, body))
    return out


def flush(ledger) -> int:
    """Write every part spooled for `ledger` (a writable Ledger) into it; the number written. Never raises."""
    n = 0
    for path, body in pending(getattr(ledger, "url", ledger.path)):
        try:
            ledger.write_part(body["run_id"], body["context"], body["part"])
            for w in body.get("windows", []):
                ledger.write_window(body["run_id"], w)
            path.unlink()
            n += 1
        except Exception:  # noqa: BLE001 - still locked or broken: stays spooled for the next open
            continue
    return n
