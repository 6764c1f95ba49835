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


@pytest.mark.parametrize("nvml_name, expected", [
    ("NVIDIA H100 80GB HBM3", "nvidia_h100_sxm5_80gb"), ("NVIDIA H100 PCIe", "nvidia_h100_pcie_80gb"),
    ("NVIDIA H100 NVL", "nvidia_h100_nvl_94gb"), ("NVIDIA H200", "nvidia_h200_sxm_141gb"),
    ("NVIDIA A100-SXM4-80GB", "nvidia_a100_sxm4_80gb"), ("NVIDIA A100-SXM4-40GB", "nvidia_a100_sxm4_40gb"),
    ("NVIDIA A100-PCIE-40GB", "nvidia_a100_pcie_40gb"), ("NVIDIA A100 80GB PCIe", "nvidia_a100_pcie_80gb"),
    ("Tesla V100-SXM2-16GB", "nvidia_v100_sxm2_16gb"), ("Tesla V100-SXM2-32GB", "nvidia_v100_sxm2_32gb"),
    ("Tesla V100-PCIE-16GB", "nvidia_v100_pcie_16gb"), ("Tesla T4", "nvidia_t4"), ("NVIDIA A10G", "nvidia_a10g"),
    ("NVIDIA A10", "nvidia_a10"), ("NVIDIA L4", "nvidia_l4"), ("NVIDIA L40S", "nvidia_l40s"),
    ("NVIDIA GeForce RTX 4090", "nvidia_rtx_4090"), ("nvidia h100 80gb hbm3", "nvidia_h100_sxm5_80gb"),
    ("NVIDIA B200", "nvidia_b200_hgx"), ("Tesla V100", "nvidia_v100_sxm2_32gb"),
])
def test_nvml_names_are_aliases(nvml_name, expected):
    assert catalog.gpu(nvml_name).accelerator_id == expected


def test_an_nvml_name_of_a_part_the_catalog_lacks_stays_unknown():
    with pytest.raises(UnknownNameError):
        catalog.gpu("NVIDIA H200 NVL")  # 600 W, not the H200 SXM


@pytest.mark.parametrize("name, dtype, expected", [
    ("V100", "bf16", "use --dtype fp16, fp32 or fp64"), ("V100-PCIe", "bfloat16", "use --dtype fp16, fp32"),
    ("T4", "bf16", "use --dtype fp16, fp32 or int8"), ("A10G", "bf16", "use --dtype fp32"),
    ("A10G", "fp16", "use --dtype fp32"), ("TPUv4", "fp16", "use --dtype bf16 or int8"),
    ("A100", "fp8", "use --dtype bf16, fp16, tf32, fp32, int8 or fp64"),
])
def test_a_dtype_without_a_published_peak_names_the_dtypes_it_has(name, dtype, expected):
    from wattwise.errors import InvalidValueError
    with pytest.raises(InvalidValueError) as e:
        catalog.gpu(name).peak(dtype)
    assert expected in str(e.value) and "no published" in str(e.value)


def test_volta_and_turing_claim_no_bf16_and_tpus_no_fp16():
    for name in ("V100", "V100-16GB", "V100-PCIe", "T4"):
        acc = catalog.gpu(name)
        assert "bf16" not in acc.peak_flop_per_s and "bf16" not in acc.dtypes and acc.peak("fp16") > 0
    assert catalog.gpu("V100").peak("fp16") == 125e12 and catalog.gpu("T4").peak("half") == 65e12
    assert catalog.gpu("TPUv5e").peak("bf16") == 197e12 and "fp16" not in catalog.gpu("TPUv5e").dtypes
    assert catalog.gpu("H100").peak("fp16") == catalog.gpu("H100").peak("bf16")


def test_pue_sources_cite_primary_reports_not_summaries_or_search_engines():
    for p in catalog.pue_presets():
        assert "datasetsearch" not in p.source and "letsdatascience" not in p.source, p.preset
        assert "datacenterdynamics" not in p.source.lower() and "statista" not in p.source.lower(), p.preset
    assert "Uptime Institute, Global Data Center Survey 2024" in catalog.pue("industry-average").source
    assert "Google" in catalog.pue("gcp").source and "Environmental Report" in catalog.pue("gcp").source
    assert "datacenters.microsoft.com" in catalog.pue("azure").source


def _catalog_cli(*argv, columns="80"):
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTWISE_")}
    env.update(COLUMNS=columns, NO_COLOR="1", PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    r = subprocess.run([sys.executable, "-m", "wattwise.cli.main", "catalog", *argv], capture_output=True,
                       text=True, env=env, timeout=120)  # piped: stdout is no terminal
    assert r.returncode == 0, r.stderr
    return r.stdout


def _whole(token: str, text: str) -> bool:
    import re
    return re.search(rf"(?<![\w:.,-]){re.escape(token)}(?![\w.-])", text) is not None


@pytest.mark.parametrize("columns", ["80", "60"])
def test_catalog_output_never_cuts_an_id_or_a_number(columns):
    gpus = _catalog_cli("gpus", columns=columns)
    for a in catalog.gpus():
        assert _whole(a.accelerator_id, gpus), a.accelerator_id
        for v in a.peak_flop_per_s.values():
            assert _whole(f"{v / 1e12:,.1f}", gpus), (a.accelerator_id, v)
        assert a.tdp_w is None or _whole(f"{a.tdp_w:g}", gpus)
    zones = _catalog_cli("zones", columns=columns)
    for z in catalog.zones():
        assert _whole(z.key, zones), z.key
    for kind in catalog.ZONE_KINDS:
        out = _catalog_cli("zones", "--kind", kind, columns=columns)
        for z in catalog.zones(kind=kind):
            assert _whole(z.key, out) and _whole(f"{z.intensity_g_per_kwh:,.1f}", out), z.key
    pue = _catalog_cli("pue", columns=columns)
    for p in catalog.pue_presets():
        assert _whole(p.preset, pue) and _whole(f"{p.pue:.2f}", pue) and _whole(f"{p.high:.2f}", pue)
    prices = _catalog_cli("prices", columns=columns)
    for p in catalog.prices():
        assert _whole(p.accelerator_id, prices) and _whole(f"{p.usd_per_gpu_hour:,.2f}", prices)
    cpus = _catalog_cli("cpus", "--search", "xeon", "--limit", "0", columns=columns)
    for c in catalog.cpus("xeon"):
        assert c.name in cpus
    for out in (gpus, zones, pue, prices, cpus):
        assert "…" not in out and "..." not in out
        if columns == "80":  # at 80 every line fits too (at 60 a long URL may run past the edge, whole)
            assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
