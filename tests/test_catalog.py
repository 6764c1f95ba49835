import csv
import subprocess
import sys
from pathlib import Path

import pytest

from wattwise import catalog
from wattwise.catalog._lookup import normalize
from wattwise.errors import UnknownNameError, WattwiseError

DATA = Path(catalog.__file__).parent / "data"


@pytest.mark.parametrize("name, expected", [
    ("a100", "nvidia_a100_sxm4_80gb"), ("A100 80GB", "nvidia_a100_sxm4_80gb"), ("A100-40GB", "nvidia_a100_sxm4_40gb"),
    ("h100-sxm5", "nvidia_h100_sxm5_80gb"), ("H100_SXM", "nvidia_h100_sxm5_80gb"), ("h100 pcie", "nvidia_h100_pcie_80gb"),
    ("TPU v5p", "google_tpu_v5p"), ("mi300x", "amd_mi300x"), ("nvidia_l4", "nvidia_l4"),
])
def test_gpu_aliases(name, expected):
    assert catalog.gpu(name).accelerator_id == expected


def test_gpu_peaks_are_dense_datasheet_values():
    a100 = catalog.gpu("A100")
    assert a100.peak("bf16") == 312e12 and a100.peak("fp16") == 312e12 and a100.peak("tf32") == 156e12
    assert a100.tdp_w == 400
    h100 = catalog.gpu("H100-SXM")
    assert h100.peak("bf16") == pytest.approx(989.5e12) and h100.peak("fp8") == pytest.approx(1979e12)
    with pytest.raises(WattwiseError, match="fp8"):
        a100.peak("fp8")  # Ampere has no FP8: error lists what it has
    with pytest.raises(WattwiseError, match="accepted"):
        a100.peak("fp7")


def test_unknown_gpu_suggests_closest():
    with pytest.raises(UnknownNameError) as e:
        catalog.gpu("A1000")
    assert "did you mean" in str(e.value) and "A100" in str(e.value)


@pytest.mark.parametrize("name, zone_id, kind", [
    ("CA-QC", "CA-QC", "electricitymaps"), ("Quebec", "CA-QC", "electricitymaps"), ("ca_qc", "CA-QC", "electricitymaps"),
    ("US-WV", "US-WV", "us-state"), ("west virginia", "US-WV", "us-state"), ("FRA", "FRA", "country"),
    ("France", "FR", "electricitymaps"), ("Chile", "CHL", "country"), ("us-west1", "us-west1", "cloud-region"), ("eastus", "eastus", "cloud-region"),
    ("us-east-1", "us-east-1", "cloud-region"), ("aws:us-west-1", "us-west-1", "cloud-region"),
])
def test_zone_lookup(name, zone_id, kind):
    z = catalog.zone(name)
    assert (z.zone_id, z.kind) == (zone_id, kind)
    assert z.intensity_g_per_kwh >= 0 and z.year >= 2019 and z.basis in ("lifecycle", "direct") and z.source


def test_gcp_and_aws_region_names_that_collide_need_their_exact_spelling():
    assert catalog.zone("us-west1").provider == "gcp"
    assert catalog.zone("us-west-1").provider == "aws"
    with pytest.raises(WattwiseError, match="ambiguous"):
        catalog.zone("USWEST1")


def test_cloud_regions_inherit_their_grid():
    eastus = catalog.zone("eastus")
    assert eastus.grid_zone == "US-VA"
    assert eastus.intensity_g_per_kwh == catalog.zone("US-VA").intensity_g_per_kwh
    assert catalog.zone("canadaeast").grid_zone == "CA-QC"


def test_egrid_conversion_from_lb_per_mwh():
    wv = catalog.zone("US-WV")
    # eGRID2023 STC2ERTA for WV is 1968.869 lb/MWh (codecarbon's usa_emissions.json); 1 lb = 0.45359237 kg
    assert wv.intensity_g_per_kwh == pytest.approx(1968.869 * 0.45359237, abs=0.01)


def test_quebec_emits_tens_of_times_less_than_west_virginia():
    ratio = catalog.zone("US-WV").intensity_g_per_kwh / catalog.zone("CA-QC").intensity_g_per_kwh
    assert 10 < ratio < 100


def test_unknown_zone_suggests():
    with pytest.raises(UnknownNameError, match="CA-QC"):
        catalog.zone("CA-QQ")


def test_pue_presets_are_ordered_ranges():
    for p in catalog.pue_presets():
        assert 1.0 <= p.low <= p.pue <= p.high
        assert p.source
    assert catalog.pue("google").preset == "gcp"
    assert catalog.pue().preset == catalog.DEFAULT_PRESET


def test_price_range_is_spread_of_offers():
    pr = catalog.price_range("H100")
    offers = [p.usd_per_gpu_hour for p in catalog.prices("H100") if p.provisioning == "on-demand"]
    assert pr.low == min(offers) and pr.high == max(offers) and pr.low <= pr.central <= pr.high
    assert pr.offers == len(offers) >= 3
    with pytest.raises(WattwiseError, match="no on-demand price"):
        catalog.price_range("TPUv4")


def test_cpu_tdp_table():
    assert catalog.cpu("1075T").tdp_w == 95
    assert len(catalog.cpus("xeon")) > 100


def test_every_shipped_row_has_a_source_and_each_table_a_licence():
    licences = (DATA / "LICENSES.md").read_text()
    for path in DATA.glob("*.csv"):
        assert path.name in licences, path.name
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert rows, path.name
        if path.name != "cpus.csv":  # one source for the whole table, stated in cpus.py and LICENSES.md
            col = "source" if "source" in rows[0] else "source_url"
            assert all(r[col].strip() for r in rows), path.name
    assert "ODbL" in licences and "CC BY 4.0" in licences
    assert "mlco2" not in " ".join(p.read_text() for p in DATA.glob("*.csv")).lower()


def test_normalize():
    assert normalize("Québec") == "quebec" and normalize("A100 80GB") == normalize("a100-80gb")


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not SHARED.exists(), reason="raw data folder ../shared/data not present")
def test_derivation_is_reproducible(tmp_path):
    """Rerunning the derivation script reproduces the shipped tables byte for byte."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "derive_catalog.py"
    subprocess.run([sys.executable, str(script), "--shared", str(SHARED), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    shipped = {p.name: p.read_bytes() for p in DATA.iterdir() if p.is_file()}
    derived = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert shipped == derived
