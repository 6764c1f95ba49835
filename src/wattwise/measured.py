"""A measured run's footprint from its parts (one part per process; ranks of a job share a run id).

Pure arithmetic, no I/O: the tracker calls it for live readings and at stop, the ledger at every write.
"""

from __future__ import annotations

from typing import Any

from .footprint import Footprint


def footprint_from_parts(parts: list[dict], context: dict[str, Any], run_id: str | None = None,
                         status: str | None = None) -> Footprint:
    """Footprint of the parts of one run: each physical device counted once (largest reading wins)."""
    from .ledger import aggregate, to_footprint
    cols = aggregate(parts, context)
    rec = {**cols, "id": run_id, "name": context.get("name"), "project": context.get("project"),
           "tags": context.get("tags"), "status": status or "running", "region": context.get("region"),
           "context": context}
    return to_footprint(rec)
