"""Carbon accounting: location-based and market-based Scope 2 emissions side by side, and the units papers use.

GHG Protocol Scope 2 Guidance (WRI/WBCSD 2015), ch. 4 and 6: a company reports both
- location-based: the energy x the average intensity of the grid where it is used (what `co2e_kg` is), and
- market-based: the energy x the factor of the contractual instruments it holds (supplier-specific rate,
  PPAs, RECs/GOs), the residual mix for the energy no instrument covers.
Here: market-based intensity = (1 - fraction covered by PPAs/RECs at 0 g) x (the residual mix or supplier
factor given; else the location-based intensity). Patterson et al. 2021 (arXiv 2104.10350, Table 4) give both
("gross" = location, "net" = after Google's carbon-free energy purchases) for each model.

Standard library only.
"""

from __future__ import annotations

from ._checks import check_number
from .constants import G_PER_KG, KG_PER_LB
from .errors import ContradictoryInputError, InvalidValueError
from .quantity import Quantity, Range

SCOPE2_SOURCE = "GHG Protocol Scope 2 Guidance (WRI/WBCSD 2015), dual reporting (ch. 4, 6)"


def lbs(kg: float | Quantity) -> Quantity:
    """kg CO2e -> lbs CO2e (1 lb = 0.45359237 kg exactly), range kept."""
    r = Range.of(kg)
    basis = kg.basis if isinstance(kg, Quantity) else ""
    method = kg.method if isinstance(kg, Quantity) else "estimated"
    return Quantity.of(r / KG_PER_LB, method, (basis + "; " if basis else "") + "in lbs (1 lb = 0.45359237 kg)")


def g_per_kwh_from_lbs(lbs_per_kwh: float) -> float:
    """An intensity in lbs CO2e per kWh (Strubell et al. 2019 use 0.954, US EPA) in gCO2e/kWh."""
    return check_number("intensity_lbs_per_kwh", lbs_per_kwh, allow_zero=True) * KG_PER_LB * G_PER_KG


def market_intensity(location: Quantity | None, *, market_g_per_kwh: float | None = None,
                     cfe_fraction: float | None = None) -> Quantity | None:
    """The market-based intensity: (1 - PPA/REC fraction) x (given residual mix / supplier factor, else the
    location-based intensity); None when neither market input is given."""
    if market_g_per_kwh is None and cfe_fraction is None:
        return None
    f = 0.0
    if cfe_fraction is not None:
        f = check_number("cfe_fraction", cfe_fraction, allow_zero=True, upper=1.0)
    if market_g_per_kwh is not None:
        base = Quantity(check_number("market_intensity_g_per_kwh", market_g_per_kwh, allow_zero=True),
                        method="estimated", basis="given market-based factor (residual mix or supplier rate)")
    elif location is not None:
        base = location
    else:
        raise InvalidValueError("`cfe_fraction` (share of energy covered by PPAs/RECs) needs a residual mix "
                                "(`market_intensity_g_per_kwh`) or a location-based intensity (`region`)")
    how = base.basis if market_g_per_kwh is not None else "location-based intensity for the uncovered energy"
    if f:
        how = f"(1 - {f:g} covered by PPAs/RECs) x {how}"
    return Quantity.of(base.range * (1.0 - f), "estimated", how)


def dual_report(facility_kwh: Quantity, location: Quantity | None, market: Quantity | None,
                extra_kg: Quantity | None = None) -> dict:
    """Location-based and market-based kg CO2e of `facility_kwh` (plus `extra_kg`, e.g. embodied, in both)."""
    if market is None:
        return {}
    if location is None:
        raise ContradictoryInputError("a market-based figure needs the location-based one too (give `region` or "
                                      "`intensity_g_per_kwh`): the Scope 2 Guidance asks for both")

    def kg(inten: Quantity) -> Quantity:
        q = Quantity.of(facility_kwh.range * inten.range / G_PER_KG, "estimated", "facility energy x intensity")
        return q.plus(extra_kg) if extra_kg is not None else q

    loc, mkt = kg(location), kg(market)
    return {"location_based_kg": loc.to_dict(), "market_based_kg": mkt.to_dict(),
            "location_intensity_g_per_kwh": location.to_dict(), "market_intensity_g_per_kwh": market.to_dict(),
            "basis": SCOPE2_SOURCE + "; co2e_kg is the location-based figure"}
