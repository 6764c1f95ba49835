"""Fork safety: a forked child (DataLoader worker, multiprocessing 'fork') is not the measured process. Every
tracker it inherited drops its state and locks (which another thread may have held at the fork) and writes
nothing, neither at exit nor on a signal."""

from __future__ import annotations

import atexit
import os
import threading
import weakref

LIVE: "weakref.WeakSet" = weakref.WeakSet()   # started trackers of this process (for fork)


def _after_fork_in_child() -> None:
    """A forked child (DataLoader worker, multiprocessing 'fork') is not the measured process: every tracker it
    inherited drops its state and locks (which another thread may have held at the fork) without writing."""
    for t in list(LIVE):
        forget(t)
    LIVE.clear()
    from . import chain, ids, ledgers, signals
    chain._reset_after_fork()
    ids._reset_after_fork()
    ledgers._reset_after_fork()
    signals._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def forget(t) -> None:
    """In a forked child: fresh locks, not running, no ledger, nothing written at exit."""
    from .signals import SignalChain
    t._lock = threading.RLock()
    t._meter_lock = threading.Lock()
    t._state_lock = threading.Lock()
    t._running = t._stopping = False
    t.ledger = None
    t._signals = SignalChain(t._on_signal)
    t.status = "parent's (forked)"
    try:
        atexit.unregister(t._atexit)
    except Exception:  # noqa: BLE001
        pass

