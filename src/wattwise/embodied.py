"""Embodied (manufacturing) carbon of the hardware a job uses, amortised over the hardware's life and the job's
share of it.

    job share  = hours the job holds the hardware / (service life in hours x utilisation)
    embodied   = (accelerators x kg per accelerator + servers x kg per server without accelerators) x job share

This is the method of Luccioni, Viguier & Ligozat (2023), "Estimating the Carbon Footprint of BLOOM, a 176B
Parameter Language Model", JMLR 24(253), Sec. 4.1 (arXiv 2211.02001): 150 kg CO2e per A100, 2,500 kg per HPE
Apollo 6500 server without its GPUs, a 6-year replacement rate and an 85% average usage of the cluster, which
gives BLOOM's 11.2 t (7.57 t servers + 3.64 t GPUs). The per-unit values and their spread come from
shared/data/embodied/embodied_carbon_published.csv (see SOURCES.md section 6); every constant below names its
source. Standard library only (no numpy): `wattwise.estimate` uses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._checks import check_fraction, check_number
from .constants import HOURS_PER_YEAR
from .errors import InvalidValueError
from .quantity import Quantity, Range

# kg CO2e to manufacture one accelerator card.
# central 150: Luccioni et al. 2023 (BLOOM) Sec. 4.1, the same number as Cloud Carbon Footprint's
#   GPU_MANUFACTURING_EMISSIONS (ccf-coefficients ccfcoef/constants.py, "150 kgCO2eq per additional GPU card");
# low 60: CNRS EcoInfo EcoDiag default for a "powerful GPU" (quoted in Boavizta boaviztapi issue #65, ~60% unc.);
# high 318: Chien et al., "Reducing the Carbon Impact of Generative AI Inference" (HotCarbon 2023), A100 with 1/8
#   of a p4d host (via the Scope3 methodology page) - an upper end, since it includes a host share.
GPU_KG = Range(60.0, 150.0, 318.0)
GPU_SOURCE = ("150 kg CO2e per accelerator (Luccioni et al. 2023, BLOOM, Sec. 4.1; = CCF GPU_MANUFACTURING_EMISSIONS); "
              "range 60 (CNRS EcoDiag 'powerful GPU') to 318 (Chien et al. HotCarbon 2023, A100 incl. 1/8 host)")
# kg CO2e to manufacture one server without its accelerators.
# central/high 2,500: Luccioni et al. 2023 (BLOOM) Sec. 4.1, HPE Apollo 6500 Gen10 Plus (8 GPUs, 2 CPUs, 512 GB),
#   also Boavizta e-footprint GPUServer default (source tag BLOOM_PAPER_SOURCE);
# low 1,000: Cloud Carbon Footprint base rack server (mono socket, low DRAM, no local storage), ccfcoef/constants.py.
SERVER_KG = Range(1000.0, 2500.0, 2500.0)
SERVER_SOURCE = ("2,500 kg CO2e per GPU server without GPUs (Luccioni et al. 2023, BLOOM, Sec. 4.1: HPE Apollo 6500 "
                 "Gen10 Plus); low 1,000 (Cloud Carbon Footprint base rack server, ccf-coefficients constants.py)")
# Service life: 6 years (BLOOM's replacement rate, Sec. 4.1); 4 years (Cloud Carbon Footprint's linear amortisation,
# ccf-coefficients constants.py) is the shorter life, hence the high end of the job's share.
LIFETIME_YEARS = Range(4.0, 6.0, 6.0)
LIFETIME_SOURCE = "6-year life (BLOOM, Sec. 4.1); 4 years (Cloud Carbon Footprint) for the high end"
# Share of its life the hardware is busy (so idle time is charged to the jobs that ran): 85% (BLOOM, Sec. 4.1).
UTILISATION = 0.85
UTILISATION_SOURCE = "85% average usage of the cluster (BLOOM, Sec. 4.1)"
# Accelerators per server when `nodes` is not given: 8, the HGX/DGX baseboard of A100/H100 clusters (Jean Zay's
# HPE Apollo 6500 nodes of BLOOM, 8 x A100; NVIDIA DGX A100/H100 datasheets: 8 GPUs per system).
GPUS_PER_NODE = 8


@dataclass(frozen=True)
class Embodied:
    """The embodied carbon of a job: the accelerators' and the servers' shares, each a Quantity in kg CO2e."""

    accelerators: Quantity
    servers: Quantity
    share: Range        # the job's share of one unit's life (hours / (life x utilisation))
    sources: str = ""   # where the default per-unit values, life and utilisation come from

    @property
    def total(self) -> Quantity:
        return self.accelerators.plus(self.servers).with_(basis=(
            "embodied carbon = (accelerators x kg + servers x kg) x hours / (life x utilisation)"))

    def to_dict(self) -> dict:
        return {"total": self.total.to_dict(), "accelerators": self.accelerators.to_dict(),
                "servers": self.servers.to_dict(), "share_of_life": self.share.to_dict()}


def nodes_for(gpus: int, gpus_per_node: int | None = None) -> int:
    """Servers that hold `gpus` accelerators, `gpus_per_node` each (default 8, at most `gpus`)."""
    per = GPUS_PER_NODE if gpus_per_node is None else int(check_number("gpus_per_node", gpus_per_node))
    return max(1, math.ceil(gpus / per))


def job_embodied(*, gpus: int, nodes: int, wall_clock_h: float | Range, gpu_kg: float | None = None,
                 server_kg: float | None = None, lifetime_years: float | None = None,
                 utilisation: float | None = None) -> Embodied:
    """Embodied carbon of holding `gpus` accelerators in `nodes` servers for `wall_clock_h` hours.

    Given per-unit values are points; the defaults are the published ranges above. A shorter life or a lower
    utilisation gives the job a larger share."""
    if nodes < 1 or gpus < 1:
        raise InvalidValueError(f"embodied carbon needs at least one accelerator and one server, got gpus={gpus}, "
                                f"nodes={nodes}")
    g = GPU_KG if gpu_kg is None else Range.point(check_number("embodied_gpu_kg", gpu_kg, allow_zero=True))
    s = SERVER_KG if server_kg is None else Range.point(check_number("embodied_server_kg", server_kg,
                                                                     allow_zero=True))
    life = LIFETIME_YEARS if lifetime_years is None else Range.point(check_number("embodied_lifetime_years",
                                                                                  lifetime_years))
    u = UTILISATION if utilisation is None else check_fraction("embodied_utilisation", utilisation)
    if u == 0:
        raise InvalidValueError("`embodied_utilisation` must be above 0 (the share of its life the hardware is busy)")
    hours = Range.of(wall_clock_h)
    # share = hours / (life_h x u): the low end takes the longest life, the high end the shortest
    share = hours / (life * HOURS_PER_YEAR * u)
    how = f"{_span(life)}-year life x {u:g} utilisation"
    acc = Quantity.of(share * g * gpus, "estimated",
                      f"{gpus} accelerators x {_span(g)} kg x {hours.central:,.0f} h / ({how})")
    srv = Quantity.of(share * s * nodes, "estimated",
                      f"{nodes} servers x {_span(s)} kg x {hours.central:,.0f} h / ({how})")
    cited = [GPU_SOURCE if gpu_kg is None else "", SERVER_SOURCE if server_kg is None else "",
             LIFETIME_SOURCE if lifetime_years is None else "", UTILISATION_SOURCE if utilisation is None else ""]
    return Embodied(acc, srv, share, "; ".join(c for c in cited if c) or "all per-unit values given")


def _span(r: Range) -> str:
    return f"{r.central:g}" if r.exact else f"{r.central:g} ({r.low:g}-{r.high:g})"
