"""Energy over time of each run and rank, from the ledger's samples (for the card's plots)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..constants import J_PER_KWH
from .model import Series

MAX_SERIES_POINTS = 200
MAX_SERIES = 24


def run_series(run_id: str, name: str | None, start_ts: float | None,
               samples: Sequence[Mapping[str, Any]]) -> list[Series]:
    """Cumulative IT energy and mean power of each rank of a run (at most MAX_SERIES_POINTS points each);
    sample times are made relative to the run's start when they are absolute."""
    by_rank: dict[int, list[Mapping]] = {}
    for s in samples:
        by_rank.setdefault(int(s.get("rank") or 0), []).append(s)
    start = start_ts
    out = []
    for rank in sorted(by_rank):
        rows = sorted(by_rank[rank], key=lambda s: s["t_s"])
        if len(rows) > MAX_SERIES_POINTS:
            step = (len(rows) - 1) / (MAX_SERIES_POINTS - 1)
            rows = [rows[round(i * step)] for i in range(MAX_SERIES_POINTS)]
        absolute = start is not None and rows and rows[0]["t_s"] >= start - 1.0 and rows[0]["t_s"] > 1e8
        t = [float(s["t_s"]) - (start if absolute else 0.0) for s in rows]
        e = [sum(float(s.get(k) or 0.0) for k in ("energy_gpu_j", "energy_cpu_j", "energy_memory_j")) / J_PER_KWH
             for s in rows]
        p: list[float | None] = [None]
        for i in range(1, len(rows)):
            dt = t[i] - t[i - 1]
            p.append((e[i] - e[i - 1]) * J_PER_KWH / dt if dt > 0 else None)
        out.append(Series(run_id, name, rank, t, e, p))
    return out
