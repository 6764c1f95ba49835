"""SIGTERM/SIGINT while a tracker runs: write the record (status 'interrupted'), then chain to the handler that
was installed before (or re-deliver the signal with its default action). Main thread only, as Python requires;
a signal the program ignores (started under nohup) stays ignored."""

from __future__ import annotations

import os
import signal
import threading
from typing import Callable


class SignalChain:
    def __init__(self, on_signal: Callable[[int], None]):
        self._on_signal = on_signal
        self._prev: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                prev = signal.getsignal(sig)
                if prev == signal.SIG_IGN:
                    continue
                self._prev[sig] = prev
                signal.signal(sig, self._handle)
            except (ValueError, OSError):
                self._prev.pop(sig, None)

    def restore(self) -> None:
        for sig, prev in list(self._prev.items()):
            try:
                if signal.getsignal(sig) == self._handle:
                    signal.signal(sig, prev if prev is not None else signal.SIG_DFL)
            except (ValueError, OSError):
                pass

    def _handle(self, signum, frame) -> None:
        prev = self._prev.get(signum)
        try:
            self._on_signal(signum)
        except Exception:  # noqa: BLE001
            pass
        if callable(prev):
            prev(signum, frame)
        elif prev == signal.SIG_IGN:
            return
        else:  # SIG_DFL (or unknown): re-deliver with the default action
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
