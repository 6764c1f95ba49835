"""Run a command, measure it and its child processes, record it: what `wattwise run -- CMD` does."""

from __future__ import annotations

import shlex
import signal
import subprocess
import threading
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import InvalidValueError, WattwiseError
from ..footprint import Footprint
from .core import Tracker


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


def run_command(cmd: Sequence[str], *, name: str | None = None, **tracker_args: Any) -> CommandRun:
    """Start `cmd`, measure its process tree until it exits, record the run. `tracker_args` go to `Tracker`
    (project, tags, region, pue, interval_s, ledger, ...); they are checked before the command starts.

    SIGTERM and SIGHUP received meanwhile are forwarded to the command (SIGINT from a terminal already reaches
    its process group); the run is then 'interrupted'. A non-zero exit is 'failed'."""
    cmd = [str(c) for c in cmd]
    if not cmd:
        raise InvalidValueError("give the command to measure, e.g. ['python', 'train.py']")
    tracker_args.setdefault("handle_signals", False)
    tracker_args["extra"] = {"command": cmd, **(tracker_args.get("extra") or {})}
    tracker = Tracker(name or shlex.join(cmd)[:120], **tracker_args)  # bad arguments fail before the command runs
    try:
        proc = subprocess.Popen(cmd)
    except OSError as e:
        raise WattwiseError(f"cannot start {cmd[0]!r}: {e.strerror or e}") from None
    tracker._pid = proc.pid
    tracker.start()
    got: list[int] = []

    def forward(signum, frame):
        got.append(signum)
        if signum != signal.SIGINT:
            try:
                proc.send_signal(signum)
            except OSError:
                pass

    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)} if main else {}
    try:
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:
                continue
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    status = "interrupted" if got or code < 0 else "ok" if code == 0 else "failed"
    fp = tracker.stop(status, f"exit code {code}" if code else None, exit_code=code)
    record = dict(tracker.record or {}, id=tracker.run_id, status=status)
    return CommandRun(cmd, code, status, tracker.run_id, fp, record, tracker)
