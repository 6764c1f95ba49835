"""`build_card`: the card of ledger runs (by ids, project and/or tag) or of an estimate. The only place the report
opens the ledger: it reads the runs' footprints and, for the plots, their samples."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from ..errors import InvalidValueError, MissingInputError
from ..footprint import Footprint
from .from_estimate import card_from_estimate
from .from_runs import card_from_runs
from .model import Card


def build_card(run_ids: Sequence[str] | None = None, *, project: str | None = None, tag: str | None = None,
               ledger: Any = None, estimate: Footprint | None = None, title: str | None = None,
               variants: Sequence[Any] | None = None, cost_axis: str = "energy", accuracy: str = "accuracy",
               inference: Mapping[str, float] | None = None, plots: bool = True, generator: str | None = None) -> Card:
    """The efficiency card of ledger runs (ids, a project and/or a tag) or of an estimate Footprint.

    `ledger` is a path, an open `wattwise.ledger.Ledger`, or None for the default ledger. Ids may be unique
    prefixes. `plots=False` skips reading samples.
    """
    if estimate is not None:
        if run_ids or project or tag:
            raise InvalidValueError("report on ledger runs (ids, --project, --tag) or on an estimate, not both")
        if inference:
            raise InvalidValueError("an estimate carries its own inference projection: give inference tokens to "
                                    "`wattwise estimate` (--inference-tokens) instead")
        return card_from_estimate(estimate, title=title, variants=variants, cost_axis=cost_axis, accuracy=accuracy,
                                  generator=generator)
    from ..ledger import Ledger, is_url, resolve_target
    own = not isinstance(ledger, Ledger)
    if own:
        target = resolve_target(ledger)            # a file, or a PostgreSQL URL (also from WATTWISE_LEDGER)
        path = target if is_url(target) else os.fspath(target)
        if not is_url(path):
            check_ledger_path(path)
        led = Ledger(path, create=False)
    else:
        led = ledger
    try:
        if run_ids:
            records = [led.run(i) for i in run_ids]
            seen: set[str] = set()
            records = [r for r in records if not (r["id"] in seen or seen.add(r["id"]))]
            if project is not None:
                records = [r for r in records if r.get("project") == project]
            if tag is not None:
                records = [r for r in records if tag in (r.get("tags") or [])]
        else:
            records = led.runs(project=project, tag=tag)
        if not records:
            raise MissingInputError(_no_runs_message(led, project, tag, bool(run_ids)))
        samples = {r["id"]: led.samples(r["id"]) for r in records} if plots else None
    finally:
        if own:
            led.close()
    selection = {"project": project, "tag": tag, "ids": list(run_ids) if run_ids else None}
    from ..ledger import to_footprint
    return card_from_runs([to_footprint(r) for r in records], samples=samples, selection=selection, title=title, variants=variants,
                          cost_axis=cost_axis, accuracy=accuracy, inference=inference, generator=generator)


def check_ledger_path(path: str) -> None:
    """Refuse, before opening anything, a ledger path that does not exist, is a folder or is an empty file:
    `report` only reads the ledger, it never creates one."""
    from ..ledger import LedgerError
    path = os.fspath(path)
    if not path.strip():
        raise LedgerError("the ledger path is empty; pass --ledger PATH to a ledger file")
    if os.path.isdir(path):
        raise LedgerError(f"the ledger {path!r} is a folder; pass --ledger PATH to a ledger file "
                          "(such as ~/.wattwise/ledger.db)")
    if not os.path.exists(path):
        raise LedgerError(f"no ledger at {path}; record runs with the tracker first, or pass --ledger PATH "
                          "to an existing ledger file")
    if not os.path.isfile(path):
        raise LedgerError(f"the ledger {path!r} is not a regular file; pass --ledger PATH to a ledger file")
    if os.path.getsize(path) == 0:
        raise LedgerError(f"the ledger {path!r} is an empty file: it holds no runs (record runs with the "
                          "tracker first)")
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise LedgerError(f"cannot read the ledger {path!r}: {e.strerror or e}") from None


def _no_runs_message(led: Any, project: str | None, tag: str | None, by_ids: bool) -> str:
    """'no runs match ...' naming what was asked and what the ledger holds."""
    what = " and ".join(x for x in (f"project {project!r}" if project else None,
                                    f"tag {tag!r}" if tag else None) if x) or "anything"
    everything = led.runs()
    if not everything:
        return f"no runs in {led.path}: the ledger is empty (record runs with the tracker first)"
    held = []
    if project:
        names = sorted({str(r.get("project")) for r in everything if r.get("project")})
        held.append("projects: " + (", ".join(names[:20]) or "none"))
    if tag:
        names = sorted({str(t) for r in everything for t in (r.get("tags") or [])})
        held.append("tags: " + (", ".join(names[:20]) or "none"))
    if by_ids and not held:
        held.append("the given runs match no --project/--tag filter")
    return f"no runs in {led.path} match {what}" + (f" (the ledger has {'; '.join(held)})" if held else "")
