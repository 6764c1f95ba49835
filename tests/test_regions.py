"""Region names resolve to the zone the user means (issue 13): two letters are a country, never a US state;
US states are US-XX or their name; UK = GB; ambiguous names are errors that list the candidates."""

import dataclasses
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wattwise import catalog, estimate, where
from wattwise.catalog.zones import AmbiguousZoneError
from wattwise.errors import InvalidValueError, UnknownNameError, WattwiseError

EM = "Electricity Maps"
OWID = "Our World in Data"
EGRID = "EPA eGRID2023"
JOB = dict(gpu_hours=100, power_w=500)


@pytest.mark.parametrize("name, zone_id, country, source", [
    # the codes issue 13 lists: each was a US state before (DE = Delaware 319 g/kWh)
    ("DE", "DE", "Germany", EM), ("IN", "IN", "Mainland India", EM), ("IL", "IL", "Israel", EM),
    ("ID", "ID", "Indonesia", EM), ("AL", "AL", "Albania", EM), ("AR", "AR", "Argentina", EM),
    ("CO", "CO", "Colombia", EM), ("GA", "GA", "Gabon", EM), ("MA", "MA", "Morocco", EM),
    ("ME", "ME", "Montenegro", EM), ("PA", "PA", "Panama", EM), ("SD", "SD", "Sudan", EM),
    ("TN", "TN", "Tunisia", EM), ("MT", "MT", "Malta", EM), ("NE", "NE", "Niger", EM),
    ("MN", "MN", "Mongolia", EM), ("MD", "MD", "Moldova", EM), ("AZ", "AZ", "Azerbaijan", EM),
    ("CA", "CA", "Canada", EM), ("de", "DE", "Germany", EM),
    ("UK", "GB", "Great Britain", EM), ("uk", "GB", "Great Britain", EM), ("GB", "GB", "Great Britain", EM),
    ("United Kingdom", "GB", "Great Britain", EM),
    ("FR", "FR", "France", EM), ("France", "FR", "France", EM), ("france", "FR", "France", EM),
    ("Germany", "DE", "Germany", EM), ("India", "IN", "Mainland India", EM),
    # 3-letter codes are Our World in Data's rows; a 2-letter code with no Electricity Maps zone goes there too
    ("FRA", "FRA", "France", OWID), ("DEU", "DEU", "Germany", OWID), ("GBR", "GBR", "United Kingdom", OWID),
    ("CL", "CHL", "Chile", OWID), ("Chile", "CHL", "Chile", OWID),
])
def test_two_letters_and_country_names_are_countries(name, zone_id, country, source):
    z = catalog.zone(name)
    assert (z.zone_id, z.name) == (zone_id, country)
    assert z.kind in ("country", "electricitymaps") and source in z.source


def test_a_country_is_one_zone_by_code_and_by_name():
    for code, name in (("FR", "France"), ("DE", "Germany"), ("GB", "United Kingdom"), ("UK", "Great Britain"),
                       ("IN", "India"), ("US", "United States")):
        assert catalog.zone(code) is catalog.zone(name), (code, name)


@pytest.mark.parametrize("name, zone_id, state", [
    ("US-CA", "US-CA", "California"), ("California", "US-CA", "California"), ("california", "US-CA", "California"),
    ("US-DE", "US-DE", "Delaware"), ("Delaware", "US-DE", "Delaware"), ("US-GA", "US-GA", "Georgia"),
    ("us-wv", "US-WV", "West Virginia"), ("West Virginia", "US-WV", "West Virginia"),
    ("US-AK", "US-AK", "Alaska"), ("Alaska", "US-AK", "Alaska"),
])
def test_us_states_by_us_code_or_name(name, zone_id, state):
    z = catalog.zone(name)
    assert (z.zone_id, z.name, z.kind) == (zone_id, state, "us-state") and EGRID in z.source


def test_delaware_is_no_longer_germany_and_the_numbers_differ():
    de, us_de = catalog.zone("DE"), catalog.zone("US-DE")
    assert de.name == "Germany" and us_de.name == "Delaware"
    assert de.intensity_g_per_kwh != us_de.intensity_g_per_kwh
    assert us_de.intensity_g_per_kwh == pytest.approx(319, abs=1)  # the number issue 13 got for 'DE'


@pytest.mark.parametrize("code, state", [("WV", "US-WV"), ("TX", "US-TX"), ("NY", "US-NY"), ("VA", "US-VA"),
                                         ("wa", "US-WA")])
def test_two_letter_us_state_codes_that_are_no_country_error_with_the_us_spelling(code, state):
    with pytest.raises(UnknownNameError) as e:
        catalog.zone(code)
    assert repr(code) in str(e.value) and repr(state) in str(e.value) and "ISO 3166" in str(e.value)


@pytest.mark.parametrize("name, zone_id, provider, source", [
    ("us-east-1", "us-east-1", "aws", EGRID), ("aws:us-east-1", "us-east-1", "aws", EGRID),
    ("AWS:US-EAST-1", "us-east-1", "aws", EGRID), ("eu-central-1", "eu-central-1", "aws", OWID),
    ("us-west1", "us-west1", "gcp", "Google Cloud region carbon data"),
    ("gcp:us-west1", "us-west1", "gcp", "Google Cloud region carbon data"),
    ("eastus", "eastus", "azure", EGRID), ("azure:eastus", "eastus", "azure", EGRID),
])
def test_cloud_regions_keep_working(name, zone_id, provider, source):
    z = catalog.zone(name)
    assert (z.zone_id, z.provider, z.kind) == (zone_id, provider, "cloud-region") and source in z.source
    assert catalog.zone(z.key) is z


def test_us_east_1_draws_from_virginia():
    z = catalog.zone("us-east-1")
    assert z.grid_zone == "US-VA" and z.intensity_g_per_kwh == catalog.zone("US-VA").intensity_g_per_kwh


@pytest.mark.parametrize("name, candidates", [
    ("Georgia", ["GE", "US-GA"]), ("georgia", ["GE", "US-GA"]),
    ("USWEST1", ["aws:us-west-1", "gcp:us-west1"]), ("us_west_1", ["aws:us-west-1", "gcp:us-west1"]),
])
def test_ambiguous_names_error_with_the_candidates(name, candidates):
    with pytest.raises(AmbiguousZoneError) as e:
        catalog.zone(name)
    assert isinstance(e.value, InvalidValueError) and isinstance(e.value, WattwiseError)
    assert e.value.candidates == candidates
    msg = str(e.value)
    assert "ambiguous" in msg and repr(name) in msg and all(repr(c) in msg for c in candidates)
    for c in candidates:  # each candidate spelling resolves on its own
        catalog.zone(c)


def test_a_bare_cloud_region_of_two_providers_is_ambiguous():
    zmod = importlib.import_module("wattwise.catalog.zones")  # the module (catalog.zones is the function)
    r = zmod._Resolver()  # no two providers share a region id today: give one a twin
    aws = r.ids["us-east-1"][0]
    r.ids["us-east-1"] = [aws, dataclasses.replace(aws, provider="gcp")]
    with pytest.raises(AmbiguousZoneError, match="more than one provider") as e:
        r.resolve("us-east-1")
    assert e.value.candidates == ["aws:us-east-1", "gcp:us-east-1"]


def test_every_zone_resolves_back_from_its_key():
    """What callers record (the key) names the same zone again: no two zones share a spelling."""
    for z in catalog.zones():
        assert catalog.zone(z.key) is z, z.key


def test_shadowed_electricity_maps_ids_have_a_qualified_key():
    em = catalog.zone("em:US-AK")
    assert em.kind == "electricitymaps" and em.key == "em:US-AK" and catalog.zone("US-AK").kind == "us-state"
    assert catalog.zone("electricitymaps:US-HI").kind == "electricitymaps"


def test_labels_say_which_dataset():
    assert catalog.zone("DE").label == "DE (Germany, Electricity Maps)"
    assert catalog.zone("US-DE").label == "US-DE (Delaware, US state, EPA eGRID)"
    assert catalog.zone("us-east-1").label == "aws:us-east-1 (US East (N. Virginia), cloud region, aws)"


def test_unknown_names_still_suggest():
    with pytest.raises(UnknownNameError, match="CA-QC"):
        catalog.zone("CA-QQ")
    with pytest.raises(UnknownNameError, match="France"):
        catalog.zone("Frnace")
    with pytest.raises(UnknownNameError, match="aws region"):
        catalog.zone("aws:nowhere-1")


# --- through estimate and where ---------------------------------------------------------------------------------

def test_estimate_uses_germany_for_de():
    de = estimate(region="DE", **JOB)
    delaware = estimate(region="US-DE", **JOB)
    assert de.co2e_kg == pytest.approx(de.energy_kwh * catalog.zone("DE").intensity_g_per_kwh / 1000, rel=1e-9)
    assert delaware.co2e_kg == pytest.approx(delaware.energy_kwh * catalog.zone("US-DE").intensity_g_per_kwh / 1000,
                                             rel=1e-9)
    assert "Germany" in de.sources["intensity"] and "Delaware" in delaware.sources["intensity"]


def test_estimate_fr_and_france_agree():
    assert estimate(region="FR", **JOB).co2e_kg == estimate(region="France", **JOB).co2e_kg


def test_estimate_rejects_ambiguous_and_state_codes():
    with pytest.raises(AmbiguousZoneError):
        estimate(region="Georgia", **JOB)
    with pytest.raises(UnknownNameError, match="US-WV"):
        estimate(region="WV", **JOB)


def test_where_compares_germany_and_delaware():
    rows = where(zones=["DE", "US-DE", "UK", "California"], params=7e9, tokens=1.4e12, gpu="H100")
    assert {p.zone.zone_id for p in rows} == {"DE", "US-DE", "GB", "US-CA"}
    for p in rows:
        assert p.footprint.co2e_kg == pytest.approx(p.footprint.energy_kwh * p.zone.intensity_g_per_kwh / 1000,
                                                    rel=1e-9)


def _cli(*argv):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTWISE_")}
    env.update(COLUMNS="80", NO_COLOR="1", PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    return subprocess.run([sys.executable, "-m", "wattwise.cli.main", *argv], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_estimate_region_de_is_germany():
    r = _cli("estimate", "--gpu-hours", "100", "--power-w", "500", "--region", "DE", "--json")
    assert r.returncode == 0, r.stderr
    assert "Germany" in r.stdout and "Delaware" not in r.stdout
    out = json.loads(r.stdout)
    text = json.dumps(out)
    assert re.search(r"\bDE\b", text)
