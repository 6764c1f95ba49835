"""One open Ledger per (process, path or postgresql:// URL), shared by every tracker of the process (opening and closing a ledger
costs ~15 ms, more than a tracker's start and stop), closed at exit."""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

_LEDGERS: dict[tuple[int, str], Any] = {}
_LEDGERS_LOCK = threading.Lock()


def shared_ledger(path, timeout_s: float | None = None):
    """The process's open Ledger for `path` (a file or a postgresql:// URL; None: `$WATTWISE_LEDGER`, else the
    default ledger), opened on first use; `timeout_s` bounds
    how long a locked ledger may hold a write."""
    from ..ledger import Ledger, is_url, resolve_target
    target = resolve_target(path)
    key = (os.getpid(), target if is_url(target) else str(Path(target).expanduser()))
    with _LEDGERS_LOCK:
        led = _LEDGERS.get(key)
        if led is None or led.closed:
            led = _LEDGERS[key] = Ledger(path) if timeout_s is None else Ledger(path, timeout_s=timeout_s)
        return led


def _reset_after_fork() -> None:
    """A forked child must not use (or close) the parent's SQLite connections: forget them."""
    global _LEDGERS_LOCK
    _LEDGERS_LOCK = threading.Lock()
    _LEDGERS.clear()


@atexit.register
def _close_ledgers() -> None:
    for led in list(_LEDGERS.values()):
        try:
            led.close()
        except Exception:  # noqa: BLE001
            pass
