"""How a tracker's checkpoints reach the ledger: the ledger opened off the caller's path (bounded by the
deadline), one part and sample per checkpoint plus the windows ended since, a generated run id that turns out
taken replaced rather than merged, and the spool when the ledger cannot be written. Mixed into `Tracker`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import ids, spool
from .windows import Snapshot, ledger_row


class RecordingMixin:
    def _open_ledger(self):
        if self._ledger_arg is False:
            return None
        from ..ledger import Ledger
        from .ledgers import shared_ledger
        if isinstance(self._ledger_arg, Ledger):
            self._ledger_target = getattr(self._ledger_arg, "url", self._ledger_arg.path)
            return self._ledger_arg
        from ..ledger import is_url, resolve_target
        target = resolve_target(self._ledger_arg)     # a path, or a PostgreSQL URL (WATTWISE_LEDGER too)
        self._ledger_target = target if is_url(target) else Path(target).expanduser()
        try:
            return shared_ledger(self._ledger_arg, timeout_s=self.deadline_s)
        except Exception as e:  # noqa: BLE001 - measure anyway; checkpoints wait in the spool
            self._warn_once("ledger", f"wattwise: ledger unavailable ({e}); measuring goes on and checkpoints are "
                                      "spooled for the next process that opens it")
            return None

    def _checkpoint(self, status: str = "running", end: bool = False) -> dict:
        snap = self._fresh_snapshot()
        part = self._part_of(snap, status, end)
        if self._ledger_arg is False:
            return part
        with self._state_lock:
            pending, self._unwritten = self._unwritten, []
        ctx = self.ctx.to_dict()
        try:
            if self.ledger is None:
                raise OSError("no ledger open")
            self._write_part(ctx, part, snap)
            while pending:
                self.ledger.write_window(self.run_id, ledger_row(pending[0], self.rank))
                pending.pop(0)
            if self._spooled:
                spool.drop(self.run_id, self.rank)
                self._spooled = False
        except Exception as e:  # noqa: BLE001 - the job goes on; what was measured waits in the spool
            with self._state_lock:   # windows not written yet are tried again at the next checkpoint
                self._unwritten = pending + self._unwritten
            self._warn_once("ledger-write", f"wattwise: could not write to the ledger ({e}); measuring goes on, "
                                            "checkpoints are spooled until it can be written")
            if self._ledger_target is not None:
                try:
                    spool.spool(self._ledger_target, self.run_id, ctx, part, [ledger_row(w, self.rank)
                                                                             for w in pending])
                    self._spooled = True
                except Exception as e2:  # noqa: BLE001
                    self._warn_once("spool", f"wattwise: could not spool the checkpoint either ({e2})")
        return part

    def _write_part(self, ctx: dict, part: dict, snap) -> None:
        """Write the part; a generated id found taken by another job is replaced (once) by a fresh one."""
        from ..ledger import RunIdTaken
        claim = not self._claimed and self._id_generated
        try:
            self.ledger.write_part(self.run_id, ctx, part, _sample(snap, self._start_wall), claim=claim)
        except RunIdTaken:
            old, self.run_id = self.run_id, ids.new_run_id()
            self._warn_once("run-id", f"wattwise: run id {old} was taken by another job; this run is {self.run_id}")
            self.ledger.write_part(self.run_id, ctx, part, _sample(snap, self._start_wall), claim=True)
        self._claimed = True


def _sample(snap: Snapshot, start_wall: float) -> dict:
    """One row of the ledger's samples table: seconds since start, energy per component, FLOPs so far."""
    s: dict[str, Any] = {"t_s": snap.t_wall - start_wall, "flops": snap.flops or None}
    for r in snap.readings:
        k = f"energy_{r['component']}_j"
        s[k] = (s.get(k) or 0.0) + r["energy_j"]
    return s


