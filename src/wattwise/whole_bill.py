"""The whole bill of an estimate beyond board power (issue 17): the scope of power (board, per-accelerator
system as Patterson et al. 2021, whole server as Strubell et al. 2019), idle power of reserved nodes, embodied
carbon of the hardware (Luccioni et al. 2022's method, wattwise.embodied) and market-based next to
location-based CO2e (GHG Protocol Scope 2, wattwise.accounting). Called by `wattwise.estimator.estimate`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import accounting, assumptions
from . import embodied as _embodied
from ._checks import check_number
from .constants import G_PER_KG, S_PER_DAY, S_PER_HOUR, W_PER_KW
from .errors import ContradictoryInputError, InvalidValueError
from .footprint import Footprint, Quantity

if TYPE_CHECKING:
    from .estimator import _Hardware

REL_TOL = 0.01  # two inputs that should agree must agree within 1%


def _agree(name_a: str, a: float, name_b: str, b: float) -> None:
    if not math.isclose(a, b, rel_tol=REL_TOL):
        raise ContradictoryInputError(
            f"{name_a} = {a:.4g} contradicts {name_b} = {b:.4g} (they differ by {abs(a / b - 1):.1%}); "
            f"give one of them, or values that agree within {REL_TOL:.0%}")


# --- the whole bill: scope of power, idle nodes, embodied carbon, market-based accounting ----------------------

SCOPES = ("board", "system", "server")
SCOPE_TEXT = {
    "board": "accelerator board power only (no host CPU, DRAM, NIC or fans; as LLaMA and Llama 2 report)",
    "system": ("per-accelerator system power: board + its share of host CPU, memory, NIC and fans (as Patterson "
               "et al. 2021, Table 4, 'Measured System Average Power per Accelerator')"),
    "server": "whole servers: accelerators + host CPU, DRAM, NIC and fans (as Strubell et al. 2019, Sec. 2)",
    "measured": "the given IT energy (its scope is that of the meter that measured it)",
}


def _duration(duration_s, duration_h, duration_days) -> float | None:
    """Wall-clock from seconds, hours or days (papers give days); several must agree."""
    given = [(n, check_number(n, v) * k) for n, v, k in (("duration_s", duration_s, 1.0),
                                                         ("duration_h", duration_h, S_PER_HOUR),
                                                         ("duration_days", duration_days, S_PER_DAY)) if v is not None]
    for (na, a), (nb, b) in zip(given, given[1:]):
        _agree(na, a, nb, b)
    return given[0][1] if given else None


def _resolve_scope(scope, power_w, host_power_w, server_power_w, energy_given) -> str:
    if scope is not None and scope not in SCOPES:
        raise InvalidValueError(f"unknown power `scope` {scope!r}; accepted: {', '.join(SCOPES)}")
    whole = host_power_w is not None or server_power_w is not None
    if scope is None:
        scope = "server" if whole else ("measured" if energy_given else "board")
    if whole and scope != "server":
        raise ContradictoryInputError(f"`host_power_w` / `server_power_w` are whole-server inputs, but `scope` is "
                                      f"{scope!r}: give scope 'server' (or leave it out)")
    if host_power_w is not None and server_power_w is not None:
        raise ContradictoryInputError("give `server_power_w` (whole machine per node) or `host_power_w` (CPU, DRAM, "
                                      "NIC, fans per node, added to the boards), not both")
    if scope == "system" and power_w is None:
        raise InvalidValueError("scope 'system' reads `power_w` as per-accelerator system power (board + host "
                                "share): give `power_w` (e.g. Patterson et al. 2021 Table 4: 288 W per TPU v3)")
    if scope == "server" and not whole:
        raise InvalidValueError("scope 'server' needs `host_power_w` (CPU, DRAM, NIC, fans per node) or "
                                "`server_power_w` (whole machine per node)")
    if energy_given and scope in ("server", "system"):
        raise ContradictoryInputError("a given `energy_kwh` already has the scope of its meter; scope "
                                      f"{scope!r} needs power inputs instead")
    return scope


def _whole_bill(fp: Footprint, hw: _Hardware, *, gpus, scope, nodes, gpus_per_node, power_w, host_power_w,
                server_power_w, idle_power_w, idle_energy_kwh, energy_given, embodied, embodied_kw,
                market_g_per_kwh, cfe_fraction) -> None:
    """Add the components beyond board power (host, whole server, idle nodes), embodied carbon and the
    market-based figure to the training footprint `fp` (in place)."""
    scope = _resolve_scope(scope, power_w, host_power_w, server_power_w, energy_given)
    if nodes is not None:
        if isinstance(nodes, bool) or int(check_number("nodes", nodes)) != nodes:
            raise InvalidValueError(f"`nodes` must be a whole number >= 1, got {nodes!r}")
        nodes = int(nodes)
        if nodes > gpus:
            raise ContradictoryInputError(f"`nodes` = {nodes} exceeds `gpus` = {gpus}: each node holds at least one "
                                          "accelerator")
    n_nodes = nodes if nodes is not None else _embodied.nodes_for(gpus, gpus_per_node)
    wall_h = fp.duration_s.range / S_PER_HOUR if fp.duration_s is not None else None
    comps = dict(fp.energy_by_component_kwh)
    changed = False
    text = SCOPE_TEXT[scope]

    def need_wall(what: str) -> bool:
        if wall_h is None:
            fp.missing[what] = "needs the wall-clock (give `duration_s`, `duration_days`, `gpu_hours` or a throughput)"
            return False
        return True

    if scope == "system" and "gpu" in comps:
        comps = {"system": comps.pop("gpu").with_(basis="GPU-hours x per-accelerator system power"), **comps}
        changed = True
    if scope == "server" and need_wall("energy_kwh"):
        if server_power_w is not None:
            w = check_number("server_power_w", server_power_w)
            comps = {"server": Quantity.of(wall_h * (n_nodes * w / W_PER_KW), "estimated",
                                           f"{n_nodes} nodes x {w:g} W whole-machine power x wall-clock")}
            text += f"; {w:g} W per node given"
        else:
            w = check_number("host_power_w", host_power_w, allow_zero=True)
            comps["host"] = Quantity.of(wall_h * (n_nodes * w / W_PER_KW), "estimated",
                                        f"{n_nodes} nodes x {w:g} W host (CPU, DRAM, NIC, fans) x wall-clock")
            text += f"; host {w:g} W per node given"
        changed = True
    if idle_power_w is not None and idle_energy_kwh is not None:
        raise ContradictoryInputError("give `idle_power_w` (per reserved node) or `idle_energy_kwh`, not both")
    if idle_energy_kwh is not None:
        comps["idle"] = Quantity(check_number("idle_energy_kwh", idle_energy_kwh, allow_zero=True),
                                 method="estimated", basis="given idle/static energy of the reserved nodes")
        text += " + given idle/static energy of the reserved nodes"
        changed = True
    elif idle_power_w is not None and need_wall("energy_kwh"):
        w = check_number("idle_power_w", idle_power_w, allow_zero=True)
        comps["idle"] = Quantity.of(wall_h * (n_nodes * w / W_PER_KW), "estimated",
                                    f"{n_nodes} reserved nodes x {w:g} W idle/static power x wall-clock")
        text += f" + idle/static power of {n_nodes} reserved nodes ({w:g} W each) over the wall-clock"
        changed = True
    fp.extra["power_scope"] = {"scope": scope, "nodes": n_nodes, "text": text}
    fp.sources["scope"] = text
    if changed and comps:
        it = None
        for q in comps.values():
            it = q if it is None else it.plus(q)
        fp.energy_by_component_kwh = comps
        fp.it_energy_kwh = it.with_(basis=" + ".join(comps) + " energy")
        fp.pue = hw.pue
        fp.energy_kwh = assumptions.facility(fp.it_energy_kwh, hw.pue, "estimated")
        fp.missing.pop("energy_kwh", None)
        if hw.intensity is not None:
            fp.co2e_kg = assumptions.carbon(fp.energy_kwh, hw.intensity, "estimated")
            fp.missing.pop("co2e_kg", None)
        if hw.price is not None and hw.price.per == "kwh":
            cost = hw.price.cost(fp.gpu_hours, fp.energy_kwh)
            if cost is not None:
                fp.cost_usd = cost.with_(basis=hw.price.basis)
    # carbon by component (each component's facility energy x intensity), then embodied
    by_comp: dict[str, dict] = {}
    if hw.intensity is not None and fp.pue is not None:
        for name, q in fp.energy_by_component_kwh.items():
            by_comp[name] = Quantity.of(q.range * fp.pue.range * hw.intensity.range / G_PER_KG, "estimated",
                                        f"{name} energy x PUE x grid intensity").to_dict()
    emb_q = None
    if embodied:
        if need_wall("embodied"):
            e = _embodied.job_embodied(gpus=gpus, nodes=n_nodes, wall_clock_h=wall_h, **embodied_kw)
            emb_q = e.total
            fp.extra["embodied"] = e.to_dict()
            by_comp["embodied"] = emb_q.to_dict()
            fp.sources["embodied"] = f"{e.accelerators.basis} + {e.servers.basis}; {e.sources}"
            if fp.co2e_kg is not None:
                fp.co2e_kg = fp.co2e_kg.plus(emb_q).with_(basis="facility energy x grid intensity + embodied carbon")
    if by_comp:
        fp.extra["co2e_by_component_kg"] = by_comp
    market = accounting.market_intensity(hw.intensity, market_g_per_kwh=market_g_per_kwh, cfe_fraction=cfe_fraction)
    if market is not None:
        if fp.energy_kwh is None:
            fp.missing["market_based"] = "needs energy first"
        else:
            fp.extra["accounting"] = accounting.dual_report(fp.energy_kwh, hw.intensity, market, emb_q)
            fp.sources["market"] = market.basis + "; " + accounting.SCOPE2_SOURCE
