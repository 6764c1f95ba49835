"""Every conversion factor between work and its cost, resolved in one place for the estimator and the tracker.

Each function returns a `Quantity` (a range with its method and source as basis) or a `Price`, so that an
estimate and a measurement of the same job use the same intensity, PUE, price, peak and power, with the same
source text. Explicit values win; catalog defaults are ranges with their sources. Errors name the Python
argument (`usd_per_gpu_hour`, `pue`, ...); the CLI maps them to its flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import defaults
from ._checks import check_fraction, check_number
from .constants import HOURS_PER_YEAR
from .errors import ContradictoryInputError, InvalidValueError, WattwiseError
from .footprint import Quantity, Range

# World average grid intensity: Our World in Data, carbon intensity of electricity, World (OWID_WRL), 2024,
# 473.0 gCO2e/kWh (Ember; Energy Institute), shared/data/owid_carbon_intensity. Range: 10th-90th percentile
# of the catalog's country intensities (computed at use).
WORLD_INTENSITY_G_PER_KWH = 473.0
WORLD_SOURCE = "Our World in Data, World (OWID_WRL) 2024, 473.0 gCO2e/kWh (Ember; Energy Institute)"
DEFAULT_HARDWARE_LIFETIME_YEARS = 4.0  # straight-line amortisation; a common server depreciation period


def zone_name(zone) -> str:
    """How a zone is named in records: cloud regions with their provider ('aws:us-east-1')."""
    return zone.key


# --- grid intensity -------------------------------------------------------------------------------------------

def world_intensity() -> Quantity:
    """The world average with the 10th-90th percentile of country intensities as its range (unknown location)."""
    from .catalog._lookup import read_table  # one table, not the full zone index
    vals = sorted(float(r["intensity_g_per_kwh"]) for r in read_table("zones_countries.csv"))
    n = len(vals)
    lo = min(vals[n // 10], WORLD_INTENSITY_G_PER_KWH)
    hi = max(vals[(9 * n) // 10], WORLD_INTENSITY_G_PER_KWH)
    return Quantity(WORLD_INTENSITY_G_PER_KWH, lo, hi, method="estimated", basis=(
        f"location UNKNOWN (give region=, WATTWISE_REGION or the config file): world average {WORLD_SOURCE}; "
        f"range {lo:g}-{hi:g} = 10th-90th percentile of country intensities in the catalog"))


def zone_intensity(zone, origin: str | None = None) -> Quantity:
    """The catalog intensity of a grid zone, with year, basis (lifecycle/direct), source and licence."""
    where = f", from {origin}" if origin else ""
    return Quantity(zone.intensity_g_per_kwh, method="estimated", basis=(
        f"{zone_name(zone)} ({zone.name}{where}) {zone.intensity_g_per_kwh:g} gCO2e/kWh, {zone.year}, "
        f"{zone.basis}, {zone.source}; licence {zone.licence}"))


def intensity(region: str | None = None, intensity_g_per_kwh: float | None = None) -> tuple[Quantity | None, Any]:
    """(intensity, zone) from an explicit intensity or a region; (None, None) when neither is given."""
    from . import catalog
    if region is not None and intensity_g_per_kwh is not None:
        raise ContradictoryInputError("give `region` (intensity from the catalog) or `intensity_g_per_kwh`, not both")
    if intensity_g_per_kwh is not None:
        x = check_number("intensity_g_per_kwh", intensity_g_per_kwh, allow_zero=True)
        return Quantity(x, method="estimated", basis="given"), None
    if region is not None:
        z = catalog.zone(region)
        return zone_intensity(z), z
    return None, None


# --- PUE ------------------------------------------------------------------------------------------------------

def pue_preset(name: str, origin: str | None = None) -> Quantity:
    from . import catalog
    p = catalog.pue(name)
    where = f" ({origin})" if origin else ""
    return Quantity(p.pue, p.low, p.high, method="estimated",
                    basis=f"preset {p.preset}{where}: {p.pue} ({p.period}; {p.source}); {p.notes}")


def check_provider(provider: str | None, zone) -> None:
    """A cloud region belongs to one provider: `provider` must not name another (its PUE and prices)."""
    zp = getattr(zone, "provider", "") if zone is not None else ""
    if provider and zp and provider.lower() != zp.lower():
        raise ContradictoryInputError(f"`region` {zone_name(zone)} is a {zp} region but `provider` is {provider!r}: "
                                      f"give `provider` {zp!r} (or none) for it, or a {provider} region")


def pue(value: float | str | None = None, *, provider: str | None = None, zone=None,
        origin: str | None = None) -> Quantity:
    """PUE: a number (>= 1), a preset name, else the provider's preset (given, or the cloud region's), else
    the industry average preset."""
    from . import catalog
    if value is not None:
        try:
            x = check_number("pue", value)
        except WattwiseError:
            if isinstance(value, str):
                return pue_preset(value, origin)
            raise
        if x < 1:
            raise InvalidValueError(f"`pue` must be >= 1 (facility energy / IT energy), got {value!r}")
        return Quantity(x, method="estimated", basis=f"given ({origin})" if origin else "given")
    preset = provider or (catalog.PROVIDER_PRESET.get(zone.provider) if zone is not None and zone.provider else None)
    return pue_preset(preset or catalog.DEFAULT_PRESET)


# --- accelerator ----------------------------------------------------------------------------------------------

def default_dtype(acc, dtype: str | None) -> str:
    """`dtype` when given; else bf16 where the accelerator has a published bf16 peak, else its fp16, fp32 or
    first published dtype (V100 and T4 have no bf16; an A10G's catalog row may list fp32 only)."""
    if dtype is not None:
        return dtype
    have = tuple(getattr(acc, "dtypes", ()) or ()) if acc is not None else ()
    if not have or defaults.DEFAULT_DTYPE in have:
        return defaults.DEFAULT_DTYPE
    return next((d for d in ("fp16", "fp32") if d in have), have[0])


def peak_flop_per_s(acc, dtype: str) -> Quantity:
    """Dense peak FLOP/s of one accelerator at `dtype`, from the catalog (datasheet)."""
    peak = acc.peak(dtype)
    from . import display
    return Quantity(peak, method="estimated",
                    basis=f"{acc.model} peak {dtype} {display.flop_rate(peak)} ({acc.source})")


def throughput(acc=None, dtype: str = defaults.DEFAULT_DTYPE, *, mfu: float | None = None,
               flop_per_s: float | None = None) -> Quantity | None:
    """Achieved FLOP/s per accelerator: given, or peak x MFU (given, or the published range)."""
    mfu = None if mfu is None else check_fraction("mfu", mfu)
    if flop_per_s is not None and mfu is not None:
        raise ContradictoryInputError("give `mfu` (a fraction of the GPU's peak) or `flop_per_s` (achieved), not both")
    if flop_per_s is not None:
        return Quantity(check_number("flop_per_s", flop_per_s), method="estimated",
                        basis="given achieved FLOP/s per GPU")
    if acc is None:
        if mfu is not None:
            raise InvalidValueError("`mfu` needs `gpu` (MFU is a fraction of that GPU's peak FLOP/s)")
        return None
    peak = peak_flop_per_s(acc, dtype)
    rng = peak.range * (Range.point(mfu) if mfu is not None else defaults.MFU)
    basis = peak.basis + " x " + (f"MFU {mfu:g} (given)" if mfu is not None else defaults.MFU_SOURCE)
    return Quantity.of(rng, "estimated", basis)


# A sanity bound on a given board power per accelerator: the largest TDP in the catalog is 1,000 W (HGX B200,
# NVIDIA HGX datasheet); 5 kW per device is more than any accelerator draws, so a larger value is a unit mistake.
MAX_BOARD_POWER_W = 5000.0


def board_power(acc=None, power_w: float | None = None) -> Quantity | None:
    """Board power per accelerator while training: given, else TDP x the measured fraction range."""
    if power_w is not None:
        w = check_number("power_w", power_w)
        if w > MAX_BOARD_POWER_W:
            raise InvalidValueError(f"`power_w` is the board power of one GPU in watts; {w:g} W is more than any "
                                    f"accelerator draws (expected 1 to {MAX_BOARD_POWER_W:,.0f} W; the largest TDP in "
                                    "the catalog is 1,000 W)")
        return Quantity(w, method="estimated", basis="given board power per GPU")
    if acc is not None and acc.tdp_w is not None:
        return Quantity.of(defaults.POWER_FRACTION_OF_TDP * acc.tdp_w, "estimated",
                           f"{acc.model} TDP {acc.tdp_w:g} W{' (estimate)' if acc.tdp_is_estimate else ''}; "
                           + defaults.POWER_SOURCE)
    return None


# --- price ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Price:
    """What a job pays: per GPU-hour (cloud; includes power and facility) or per facility kWh (owned hardware,
    optionally plus straight-line amortisation of the hardware over its life)."""

    per: str                              # 'gpu_hour' or 'kwh'
    usd: Quantity                         # USD per GPU-hour or per kWh, with its source as basis
    hardware_usd: float | None = None     # purchase price per GPU (owned hardware)
    hardware_lifetime_h: float | None = None

    @property
    def basis(self) -> str:
        return self.usd.basis

    def cost(self, gpu_hours: Quantity | None, facility_energy_kwh: Quantity | None,
             method: str = "estimated") -> Quantity | None:
        """The job's dollars: GPU-hours x price, or facility kWh x price (+ amortisation x GPU-hours)."""
        if self.per == "gpu_hour":
            if gpu_hours is None:
                return None
            return Quantity.of(gpu_hours.range * self.usd.range, method, "GPU-hours x price per GPU-hour")
        if facility_energy_kwh is None:
            return None
        rng = facility_energy_kwh.range * self.usd.range
        basis = "facility energy x price per kWh"
        if self.hardware_usd is not None:
            if gpu_hours is None:
                return None
            rng = rng + gpu_hours.range * (self.hardware_usd / self.hardware_lifetime_h)
            basis += " + hardware amortised per GPU-hour"
        return Quantity.of(rng, method, basis)

    def to_dict(self) -> dict[str, Any]:
        """The record form (ledger context): per, low, central, high, plus amortisation when present."""
        d = {"per": self.per, "low": self.usd.low, "central": float(self.usd), "high": self.usd.high,
             "basis": self.usd.basis}
        if self.hardware_usd is not None:
            d.update(hardware_usd=self.hardware_usd, hardware_lifetime_h=self.hardware_lifetime_h)
        return d

    @classmethod
    def from_dict(cls, d: dict | None, basis: str = "") -> "Price | None":
        if not d:
            return None
        q = Quantity(d["central"], d.get("low"), d.get("high"), method="estimated", basis=d.get("basis") or basis)
        return cls(d.get("per", "gpu_hour"), q, d.get("hardware_usd"), d.get("hardware_lifetime_h"))


def price(acc=None, *, usd_per_gpu_hour: float | None = None, usd_per_kwh: float | None = None,
          hardware_usd: float | None = None, hardware_lifetime_years: float | None = None,
          provider: str | None = None) -> tuple[Price | None, str | None]:
    """(price, why missing): a given price per GPU-hour, a given electricity price (+ amortisation), else the
    spread of the catalog's dated on-demand offers for the accelerator (of `provider` when it is a cloud)."""
    from . import catalog
    if usd_per_gpu_hour is not None and usd_per_kwh is not None:
        raise ContradictoryInputError("give `usd_per_gpu_hour` (cloud) or `usd_per_kwh` (owned hardware), not both")
    if hardware_usd is not None and usd_per_kwh is None:
        raise InvalidValueError("`hardware_usd` (amortisation) goes with `usd_per_kwh`, not with a cloud price per "
                                "GPU-hour")
    if usd_per_gpu_hour is not None:
        x = check_number("usd_per_gpu_hour", usd_per_gpu_hour, allow_zero=True)
        return Price("gpu_hour", Quantity(x, method="estimated", basis="given price per GPU-hour")), None
    if usd_per_kwh is not None:
        x = check_number("usd_per_kwh", usd_per_kwh, allow_zero=True)
        basis = "given electricity price per kWh (facility energy)"
        hw = life_h = None
        if hardware_usd is not None:
            hw = check_number("hardware_usd", hardware_usd)
            years = check_number("hardware_lifetime_years", DEFAULT_HARDWARE_LIFETIME_YEARS
                                 if hardware_lifetime_years is None else hardware_lifetime_years)
            life_h = years * HOURS_PER_YEAR
            basis += f" + hardware {hw:g} USD per GPU amortised over {years:g} years"
        return Price("kwh", Quantity(x, method="estimated", basis=basis), hw, life_h), None
    if acc is None:
        return None, "give `usd_per_gpu_hour`, `usd_per_kwh`, or a `gpu` with known prices"
    try:
        pr = catalog.price_range(acc.accelerator_id, provider if provider in ("aws", "azure", "gcp") else None)
    except WattwiseError as err:
        return None, str(err)
    q = Quantity(pr.central, pr.low, pr.high, method="estimated",
                 basis=f"{pr.source}, newest {pr.as_of}: {pr.low:g}-{pr.central:g}-{pr.high:g} USD/GPU-h")
    return Price("gpu_hour", q), None


# --- the chain's last links (shared by estimate and tracker) --------------------------------------------------

def facility(it_energy_kwh: Quantity, pue_: Quantity, method: str) -> Quantity:
    return Quantity.of(it_energy_kwh.range * pue_.range, method, "IT energy x PUE")


def carbon(facility_energy_kwh: Quantity, intensity_: Quantity, method: str) -> Quantity:
    from .footprint import energy_to_co2e
    return Quantity.of(energy_to_co2e(facility_energy_kwh.range, intensity_.range), method,
                       "facility energy x grid intensity")


# --- a tracked run's location ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Location:
    """Where a run draws its power: zone (None when unknown), intensity and PUE with their sources."""

    region: str | None           # record name of the zone ('FR', 'aws:us-east-1'), None when unknown
    zone: Any                    # the catalog Zone, or None
    intensity_g_per_kwh: Quantity
    pue: Quantity

    @property
    def known(self) -> bool:
        return self.zone is not None


def location(region: str | None = None, pue_value: float | str | None = None, *,
             fallbacks_region: list[tuple[str, Any]] = (), fallbacks_pue: list[tuple[str, Any]] = (),
             provider: str | None = None, warn=None) -> Location:
    """The location of a tracked run. Explicit `region` / `pue_value` must be valid (a WattwiseError
    otherwise, before any work); the (origin, value) fallbacks (environment, config file) are tried in order
    and a value that does not resolve is reported through `warn` and skipped. An unknown location keeps the
    world average intensity as a labelled range."""
    from . import catalog
    zone, origin = None, None
    if region is not None:
        zone = catalog.zone(region)
    else:
        for origin, value in fallbacks_region:
            if value:
                try:
                    zone = catalog.zone(str(value))
                    break
                except WattwiseError as e:
                    if warn is not None:
                        warn(f"wattwise: {origin} region ignored: {e}; location reported as unknown")
        else:
            origin = None
    inten = zone_intensity(zone, origin) if zone is not None else world_intensity()
    q = None
    if pue_value is not None:
        q = pue(pue_value)
    else:
        for origin_p, value in fallbacks_pue:
            if value in (None, ""):
                continue
            try:
                q = pue(value, origin=origin_p)
                break
            except WattwiseError as e:
                if warn is not None:
                    warn(f"wattwise: {origin_p} PUE ignored: {e}")
    if q is None:
        q = pue(None, provider=provider, zone=zone)
    return Location(zone_name(zone) if zone is not None else None, zone, inten, q)
