"""A run continued by a resumed fit (Lightning, the Hugging Face Trainer): the new process's tracker carries the
earlier totals, found in the checkpoint or, when newer, in the ledger."""

from __future__ import annotations

from typing import Mapping

# --- a run continued by a resumed fit --------------------------------------------------------------------------

def continued_tracker(previous: Mapping | None, **kwargs):
    """A `Tracker` whose run continues `previous` (the part of this rank that an earlier process wrote: readings,
    flops, steps, tokens, start and end): its part adds the earlier part's energy per device, FLOPs, steps and
    tokens, and moves its start back by the earlier part's active time, so the run's totals and rates cover
    both processes and not the time between them. Windows and samples stay per process."""
    from ..tracker import Tracker

    class ContinuedTracker(Tracker):
        def current_part(self) -> dict | None:
            """This rank's cumulative part as of the last snapshot (what a checkpoint saves)."""
            if not self._running:
                return None
            with self._state_lock:
                snap = self._snap
            return self._part_of(snap, "running", end=False)

        def _part_of(self, snap, status, end):
            part = super()._part_of(snap, status, end)
            return continue_part(previous, part) if previous else part

    return ContinuedTracker(**kwargs)


def continue_part(prev: Mapping, part: dict) -> dict:
    """`part` (this process) continued from `prev` (the earlier processes' cumulative part of the same rank)."""
    out = dict(part)
    pinfo = prev.get("info") or {}
    p_end = prev.get("end_ts") or prev.get("updated_ts")
    active = pinfo.get("elapsed_s")
    if active is None:
        active = max(0.0, (p_end or 0.0) - (prev.get("start_ts") or p_end or 0.0))
    if out.get("start_ts") is not None:
        out["start_ts"] = out["start_ts"] - active
    flops = (prev.get("flops") or 0.0) + (part.get("flops") or 0.0)
    out["flops"] = flops or None
    out["steps"] = int(prev.get("steps") or 0) + int(part.get("steps") or 0)
    devices = {r["device"]: dict(r) for r in prev.get("readings") or []}
    for r in part.get("readings") or []:
        d = devices.get(r["device"])
        if d is None:
            devices[r["device"]] = dict(r)
        else:
            for k in ("energy_j", "low_j", "high_j"):
                d[k] = d[k] + r[k]
            if d.get("kind") != r.get("kind"):
                d["kind"] = "estimated"
    out["readings"] = list(devices.values())
    info = dict(part.get("info") or {})
    if info.get("elapsed_s") is not None:
        info["elapsed_s"] = float(active) + float(info["elapsed_s"])
    tokens = float(pinfo.get("tokens") or 0.0) + float(info.get("tokens") or 0.0)
    if tokens:
        info["tokens"] = tokens
    info["processes"] = int(pinfo.get("processes") or 1) + 1
    info["warnings"] = sorted(set(pinfo.get("warnings") or []) | set(info.get("warnings") or []))
    out["info"] = info
    return out


STATE_VERSION = 1


def tracker_state(tracker, resumed_from: Mapping | None) -> dict:
    """What a checkpoint saves of a continued tracker: run id, rank and this rank's cumulative part."""
    if tracker is None or not tracker._running:
        return dict(resumed_from or {})
    return {"version": STATE_VERSION, "run_id": tracker.run_id, "rank": tracker.rank, "part": tracker.current_part()}


def previous_part(saved: Mapping | None, tracker_kwargs: Mapping) -> dict | None:
    """This rank's part of the run being resumed: the ledger's (all that process measured) when it is newer
    than the checkpoint's, else the checkpoint's."""
    if not saved:
        return None
    from ..tracker import dist_env
    rank = (dist_env() or {}).get("rank", 0)
    ck = saved.get("part") if int(saved.get("rank") or 0) == rank else None
    led_part = None
    try:
        from ..tracker.ledgers import shared_ledger
        led_arg = tracker_kwargs.get("ledger")
        if led_arg is not False:
            from ..ledger import Ledger
            led = led_arg if isinstance(led_arg, Ledger) else shared_ledger(led_arg)
            led_part = next((p for p in led.parts(saved["run_id"]) if int(p.get("rank") or 0) == rank), None)
    except Exception:  # noqa: BLE001 - no ledger, or the run is not in it: the checkpoint's part
        led_part = None
    if led_part and (not ck or (led_part.get("updated_ts") or 0) >= (ck.get("updated_ts") or 0)):
        return led_part
    return ck
