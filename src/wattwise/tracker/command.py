"""Run a command, measure it and its child processes, record it: what `wattwise run -- CMD` does.

Signals: SIGTERM, SIGINT and SIGHUP are blocked from before the command starts until the forwarding is in place,
so a signal in the first milliseconds is never lost: it is forwarded and the run recorded as interrupted. On
Linux a signal sent by another process (`kill`) is forwarded to the command; a terminal's Ctrl-C, which the
kernel already delivered to the whole foreground group, is not sent a second time.

Privacy: the run's default name is the program's name; the full command line is recorded only with
`record_command=True`, and then with the values of options that look secret (`--api-key=...`, `--token X`,
`--password`, `--secret`) replaced by `***`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import InvalidValueError, WattwiseError
from ..footprint import Footprint
from .core import Tracker

_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# a command killed by one of these crashed ("failed"); by any other signal it was stopped ("interrupted")
_CRASH_SIGNALS = {getattr(signal, n) for n in ("SIGSEGV", "SIGABRT", "SIGBUS", "SIGFPE", "SIGILL", "SIGSYS",
                                                "SIGTRAP") if hasattr(signal, n)}
_SECRET = re.compile(r"(key|token|password|passwd|secret|credential|auth)", re.IGNORECASE)
_SI_KERNEL = 0x80   # siginfo si_code of a signal raised by the kernel (a terminal's Ctrl-C), Linux


@dataclass
class CommandRun:
    """The outcome of `run_command`: the command's exit code (negative: killed by that signal), the run's
    status ('ok', 'failed', 'interrupted'), its id, footprint and ledger record, and the tracker."""
    command: list[str]
    exit_code: int
    status: str
    run_id: str | None
    footprint: Footprint | None
    record: dict
    tracker: Tracker


def redact(cmd: Sequence[str]) -> list[str]:
    """The command with the values of secret-looking options replaced by '***'."""
    out, hide_next = [], False
    for a in cmd:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        if a.startswith("-") and _SECRET.search(a.split("=", 1)[0]):
            if "=" in a:
                out.append(a.split("=", 1)[0] + "=***")
            else:
                out.append(a)
                hide_next = True
            continue
        out.append(a)
    return out


def status_of(code: int, interrupted: bool) -> str:
    """'ok', 'failed' (non-zero exit, or killed by a crash signal such as SIGSEGV) or 'interrupted'."""
    if code < 0:
        return "failed" if -code in _CRASH_SIGNALS else "interrupted"
    if interrupted:
        return "interrupted"
    return "ok" if code == 0 else "failed"


def _become_subreaper() -> bool:
    """Linux: orphaned descendants of the command (a daemon that double-forks) are reparented to this process
    instead of init, so that they can be seen. Only for a process that exits soon after (`wattwise run`)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0          # PR_SET_CHILD_SUBREAPER
    except Exception:  # noqa: BLE001
        return False


def _own_children() -> set[int]:
    from ..meters._proc import _children
    return set(_children(os.getpid()))


def run_command(cmd: Sequence[str], *, name: str | None = None, record_command: bool = False,
                watch_daemons: bool = False, **tracker_args: Any) -> CommandRun:
    """Start `cmd`, measure its process tree until it exits, record the run. `tracker_args` go to `Tracker`
    (project, tags, region, pue, interval_s, ledger, ...); they are checked before the command starts.

    `watch_daemons` (Linux; `wattwise run` sets it): processes the command leaves running after it exits
    (daemonized) are reported in the run's warnings as not measured past that point."""
    cmd = [str(c) for c in cmd]
    if not cmd:
        raise InvalidValueError("give the command to measure, e.g. ['python', 'train.py']")
    tracker_args.setdefault("handle_signals", False)
    extra = dict(tracker_args.get("extra") or {})
    extra["program"] = os.path.basename(cmd[0])
    if record_command:
        extra["command"] = redact(cmd)
    tracker_args["extra"] = extra
    tracker = Tracker(name or os.path.basename(cmd[0]), **tracker_args)  # bad arguments fail before the command
    reaping = watch_daemons and _become_subreaper()
    before = _own_children() if reaping else set()
    main = threading.current_thread() is threading.main_thread()
    forwarder = (_Forwarder() if hasattr(signal, "sigtimedwait") else _HandlerForwarder()) if main else None
    if forwarder is not None:
        forwarder.block()
    try:
        try:
            proc = subprocess.Popen(cmd, preexec_fn=_unblock_in_child if isinstance(forwarder, _Forwarder) else None)
        except OSError as e:
            raise WattwiseError(f"cannot start {cmd[0]!r}: {e.strerror or e}") from None
        tracker._pid = proc.pid
        if forwarder is not None:
            forwarder.start(proc)
        tracker.start()
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:
                continue
    finally:
        if forwarder is not None:
            forwarder.stop()
    got = bool(forwarder and forwarder.received)
    status = status_of(code, got)
    why = None
    if code < 0:
        why = f"killed by {signal.Signals(-code).name}" if -code in signal.Signals._value2member_map_ else \
            f"killed by signal {-code}"
    elif code:
        why = f"exit code {code}"
    if reaping:
        left = sorted(_own_children() - before - {proc.pid})
        if left:
            tracker._warn_once("daemons", f"wattwise: the command left {len(left)} process(es) running when it "
                                          f"exited (daemonized? pids {', '.join(map(str, left))}): they are not "
                                          "measured after that")
            tracker.annotate(daemonized_pids=left)
    fp = tracker.stop(status, why, exit_code=code)
    record = dict(tracker.record or {}, id=tracker.run_id, status=status)
    return CommandRun(cmd, code, status, tracker.run_id, fp, record, tracker)


def _unblock_in_child() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)


class _Forwarder:
    """Blocks the forwarded signals in this thread (and the threads it starts), then a waiter thread takes
    them with sigtimedwait and sends them on to the command."""

    def __init__(self):
        self.received: list[int] = []
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._old_mask = None

    def block(self) -> None:
        self._old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)

    def start(self, proc) -> None:
        self._thread = threading.Thread(target=self._wait, args=(proc,), name="wattwise-signals", daemon=True)
        self._thread.start()

    def _wait(self, proc) -> None:
        while not self._done.is_set():
            try:
                info = signal.sigtimedwait(_FORWARDED, 0.05)
            except (OSError, InterruptedError):
                continue
            if info is None:
                continue
            self.received.append(info.si_signo)
            from_terminal = info.si_signo == signal.SIGINT and info.si_code == _SI_KERNEL
            if not from_terminal:
                try:
                    proc.send_signal(info.si_signo)
                except OSError:
                    pass

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        # signals that arrived after the command ended: taken now, so unblocking does not deliver them
        while True:
            try:
                info = signal.sigtimedwait(_FORWARDED, 0)
            except (OSError, InterruptedError):
                break
            if info is None:
                break
            self.received.append(info.si_signo)
        if self._old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old_mask)


class _HandlerForwarder:
    """Where sigtimedwait is missing (macOS): Python handlers forward SIGTERM and SIGHUP; SIGINT, which a
    terminal already sends to the whole group, is not sent again. Signals before `start` are kept and forwarded."""

    def __init__(self):
        self.received: list[int] = []
        self._proc = None
        self._previous: dict = {}

    def _handler(self, signum, frame) -> None:
        self.received.append(signum)
        if self._proc is not None and signum != signal.SIGINT:
            try:
                self._proc.send_signal(signum)
            except OSError:
                pass

    def block(self) -> None:
        self._previous = {s: signal.signal(s, self._handler) for s in _FORWARDED}

    def start(self, proc) -> None:
        self._proc = proc
        for s in self.received:
            if s != signal.SIGINT:
                try:
                    proc.send_signal(s)
                except OSError:
                    pass

    def stop(self) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)
