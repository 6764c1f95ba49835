"""SIGTERM/SIGINT while trackers run: write every running tracker's record (status 'interrupted'), then chain
to the handler that was installed before the first of them (or re-deliver the signal with its default action).

One process-wide handler serves every tracker, so nested trackers stopped in any order leave exactly the
handler that was there before them. Main thread only, as Python requires; a signal the program ignores
(started under nohup) stays ignored.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Callable

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_LOCK = threading.RLock()
_ACTIVE: list["SignalChain"] = []        # trackers whose handler is installed, oldest first
_ORIGINAL: dict[int, object] = {}        # the handlers before the first tracker


def _dispatch(signum, frame) -> None:
    with _LOCK:
        chains = list(reversed(_ACTIVE))   # newest first: inner blocks are stopped before outer ones
        prev = _ORIGINAL.get(signum)
    for c in chains:
        try:
            c._on_signal(signum)
        except Exception:  # noqa: BLE001
            pass
    if callable(prev):
        prev(signum, frame)
    elif prev == signal.SIG_IGN:
        return
    else:  # SIG_DFL (or unknown): re-deliver with the default action
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


class SignalChain:
    def __init__(self, on_signal: Callable[[int], None]):
        self._on_signal = on_signal
        self._installed = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        with _LOCK:
            if not _ACTIVE:
                for sig in _SIGNALS:
                    try:
                        prev = signal.getsignal(sig)
                        if prev == signal.SIG_IGN:
                            continue
                        _ORIGINAL[sig] = prev
                        signal.signal(sig, _dispatch)
                    except (ValueError, OSError):
                        _ORIGINAL.pop(sig, None)
            _ACTIVE.append(self)
            self._installed = True

    def restore(self) -> None:
        with _LOCK:
            if not self._installed:
                return
            self._installed = False
            if self in _ACTIVE:
                _ACTIVE.remove(self)
            if _ACTIVE or threading.current_thread() is not threading.main_thread():
                return
            for sig, prev in list(_ORIGINAL.items()):
                try:
                    if signal.getsignal(sig) is _dispatch:   # someone installed their own since: leave theirs
                        signal.signal(sig, prev if prev is not None else signal.SIG_DFL)
                except (ValueError, OSError):
                    pass
            _ORIGINAL.clear()


def _reset_after_fork() -> None:
    global _LOCK
    _LOCK = threading.RLock()
    _ACTIVE.clear()
