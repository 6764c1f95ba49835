import math

import pytest
from hypothesis import given, settings, strategies as st

import wattwise
from wattwise import estimate
from wattwise.errors import ContradictoryInputError, InvalidValueError, UnknownNameError
from wattwise.footprint import QUANTITIES


def test_seed_7b_on_1_4t_tokens():
    """Chapter exercise: 6 x 7e9 x 1.4e12 = 5.88e22 FLOPs; at 150 TFLOP/s, 108,889 GPU-hours."""
    fp = estimate(params=7e9, tokens=1.4e12, flop_per_s=150e12)
    assert fp.flops == pytest.approx(5.88e22, rel=1e-12)
    assert round(fp.gpu_hours) == 108_889
    assert fp.energy_kwh is None and "energy_kwh" in fp.missing and "co2e_kg" in fp.missing


def test_seed_a100_ten_hours_half_utilisation():
    """312 TFLOP/s x 50% x 36,000 s = 5.616e18 FLOPs."""
    fp = estimate(gpu="A100", duration_s=10 * 3600, mfu=0.5)
    assert fp.flops == pytest.approx(5.616e18, rel=1e-12)
    assert fp.gpu_hours == pytest.approx(10)


def test_gpt3_training_flops_within_one_percent():
    fp = estimate(params=175e9, tokens=300e9)
    assert abs(fp.flops / 3.14e23 - 1) < 0.01


def test_llama2_7b_reported_emissions():
    """Touvron et al. 2023 (Llama 2) Table 2: 184,320 GPU-hours at 400 W -> 31.22 t CO2e (PUE 1, 423.4 g/kWh)."""
    fp = estimate(gpu_hours=184320, power_w=400, intensity_g_per_kwh=423.4, pue=1.0)
    assert fp.energy_kwh == pytest.approx(73_728)
    assert fp.co2e_kg / 1000 == pytest.approx(31.22, abs=0.005)
    assert fp.flops is None and "flops" in fp.missing and "cost_usd" in fp.missing


def test_quebec_vs_west_virginia_same_job():
    job = dict(params=7e9, tokens=1.4e12, gpu="H100-SXM", mfu=0.4)
    qc = estimate(region="CA-QC", **job)
    wv = estimate(region="US-WV", **job)
    assert qc.energy_kwh == pytest.approx(wv.energy_kwh)
    ratio = wv.co2e_kg / qc.co2e_kg
    assert 10 < ratio < 100  # "tens of times": 893.06 / 41 = 21.8 with the shipped data


def test_full_chain_with_catalog_defaults_has_ranges():
    fp = estimate(params=70e9, tokens=1.4e12, gpu="A100-80GB", gpus=1024, region="US-WV")
    for q in QUANTITIES:
        r = fp.ranges[q]
        assert r.low <= r.central <= r.high
    # default MFU is a range (PaLM Table 3), so GPU-hours are uncertain; FLOPs are not
    assert fp.ranges["flops"].exact and not fp.ranges["gpu_hours"].exact
    assert fp.duration_s == pytest.approx(fp.gpu_hours * 3600 / 1024)
    assert set(fp.sources) >= {"flops", "throughput", "power", "pue", "intensity", "cost"}


def test_mfu_given_matches_hand_calculation():
    fp = estimate(params=70e9, tokens=1.4e12, gpu="A100-80GB", gpus=1024, mfu=0.4, region="US-WV",
                  pue=1.1, power_w=400, price_usd_per_gpu_hour=2.0)
    gpu_h = 6 * 70e9 * 1.4e12 / (312e12 * 0.4) / 3600
    assert fp.gpu_hours == pytest.approx(gpu_h)
    assert fp.energy_kwh == pytest.approx(gpu_h * 0.4 * 1.1)
    assert fp.co2e_kg == pytest.approx(gpu_h * 0.4 * 1.1 * 893.06 / 1000)
    assert fp.cost_usd == pytest.approx(gpu_h * 2.0)
    assert fp.mfu == pytest.approx(0.4)


def test_cloud_region_uses_provider_pue():
    fp = estimate(gpu_hours=100, power_w=500, region="us-east-1")
    assert fp.pue.central == wattwise.catalog.pue("aws").pue
    assert fp.pue.central < wattwise.catalog.pue().pue


def test_moe_uses_active_params():
    dense = estimate(params=47e9, tokens=1e12)
    moe = estimate(params=47e9, active_params=13e9, tokens=1e12)
    assert moe.flops == pytest.approx(6 * 13e9 * 1e12) and moe.flops < dense.flops
    with pytest.raises(ContradictoryInputError):
        estimate(params=1e9, active_params=2e9, tokens=1e9)


def test_inference_split_and_crossover_day():
    fp = estimate(params=7e9, tokens=1.4e12, flop_per_s=150e12, inference_tokens_per_day=1e11, inference_days=365)
    split = fp.extra["split"]
    train, infer = 6 * 7e9 * 1.4e12, 2 * 7e9 * 1e11 * 365
    assert split["inference_fraction"] == pytest.approx(infer / (train + infer))
    assert split["crossover_day"] == pytest.approx(train / (2 * 7e9 * 1e11))  # 42 days
    assert fp.lifetime.flops == pytest.approx(train + infer)


def test_electricity_price_and_amortisation():
    fp = estimate(gpu_hours=1000, power_w=500, pue=1.2, electricity_usd_per_kwh=0.1, hardware_usd=30000,
                  hardware_lifetime_years=4)
    energy = 1000 * 0.5 * 1.2
    assert fp.cost_usd == pytest.approx(energy * 0.1 + 30000 * 1000 / (4 * 8766))


@pytest.mark.parametrize("kwargs, error", [
    (dict(params=-1, tokens=1e9), InvalidValueError),
    (dict(params=0, tokens=1e9), InvalidValueError),
    (dict(params=float("nan"), tokens=1e9), InvalidValueError),
    (dict(params=float("inf"), tokens=1e9), InvalidValueError),
    (dict(gpu="A100", mfu=1.5, gpu_hours=1), InvalidValueError),
    (dict(gpu="A100", mfu=0.5, flop_per_s=1e14, gpu_hours=1), ContradictoryInputError),
    (dict(params=7e9, tokens=1.4e12, flops=1e20), ContradictoryInputError),
    (dict(gpu_hours=10, duration_s=3600, gpus=2), ContradictoryInputError),
    (dict(gpu_hours=1, power_w=1, region="US-WV", intensity_g_per_kwh=100), ContradictoryInputError),
    (dict(gpu_hours=1, power_w=1, pue=0.9), InvalidValueError),
    (dict(gpu="B300", gpu_hours=1), UnknownNameError),
    (dict(gpu_hours=1, power_w=1, region="Atlantis"), UnknownNameError),
    (dict(gpus=1.5, gpu_hours=1), InvalidValueError),
    (dict(mfu=0.5, params=1e9, tokens=1e9), InvalidValueError),
])
def test_bad_input_is_named(kwargs, error):
    with pytest.raises(error) as e:
        estimate(**kwargs)
    assert str(e.value)


def test_consistent_redundant_inputs_are_accepted():
    fp = estimate(params=7e9, tokens=1.4e12, flops=5.88e22, gpu_hours=10, duration_s=3600 * 5, gpus=2)
    assert fp.gpu_hours == 10


pos = st.floats(min_value=1e3, max_value=1e13, allow_nan=False, allow_infinity=False)
scale = st.floats(min_value=0.01, max_value=100, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(pos, pos, scale)
def test_scaling_tokens_scales_every_quantity(params, tokens, k):
    """Physics: twice the work costs twice the FLOPs, hours, energy, carbon and dollars (fixed hardware)."""
    job = dict(params=params, gpu="H100", gpus=8, region="FRA")
    a = estimate(tokens=tokens, **job)
    b = estimate(tokens=tokens * k, **job)
    for q in QUANTITIES:
        for end in ("low", "central", "high"):
            x, y = getattr(a.ranges[q], end), getattr(b.ranges[q], end)
            assert math.isclose(y, x * k, rel_tol=1e-9), (q, end)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=1, max_value=1000), st.floats(min_value=1, max_value=1000), scale)
def test_carbon_proportional_to_intensity_and_pue(intensity, power, k):
    a = estimate(gpu_hours=100, power_w=power, intensity_g_per_kwh=intensity, pue=1.2)
    b = estimate(gpu_hours=100, power_w=power, intensity_g_per_kwh=intensity * k, pue=1.2)
    assert math.isclose(b.co2e_kg, a.co2e_kg * k, rel_tol=1e-9)
    assert math.isclose(b.energy_kwh, a.energy_kwh, rel_tol=1e-12)


@settings(max_examples=40, deadline=None)
@given(pos, pos, st.sampled_from(["A100", "H100", "V100", "L4", "MI300X", "T4"]),
       st.sampled_from(["US-WV", "CA-QC", "FRA", "us-west1", "eastus", "DE"]),
       st.integers(min_value=1, max_value=4096))
def test_more_gpus_same_gpu_hours_less_wall_clock(params, tokens, gpu, region, gpus):
    one = estimate(params=params, tokens=tokens, gpu=gpu, region=region)
    many = estimate(params=params, tokens=tokens, gpu=gpu, region=region, gpus=gpus)
    assert math.isclose(many.gpu_hours, one.gpu_hours, rel_tol=1e-12)
    assert math.isclose(many.duration_s * gpus, one.duration_s, rel_tol=1e-9)
    for q in QUANTITIES:
        if q in many.ranges:
            r = many.ranges[q]
            assert r.low <= r.central <= r.high


def test_arch_uses_counted_flops_per_token():
    from wattwise.flops import flops_per_token
    info = flops_per_token("llama-7b")
    fp = estimate(arch="llama-7b", tokens=2e12)
    assert fp.flops == pytest.approx(info["training_flops_per_token"] * 2e12)
    assert fp.flops > 6 * info["params"] * 2e12  # attention adds to 6N at context 2048
    assert "llama-7b" in fp.sources["flops"]
    with pytest.raises(ContradictoryInputError):
        estimate(arch="llama-7b", params=13e9, tokens=1e12)
    with pytest.raises(UnknownNameError, match="llama-3-8b"):
        estimate(arch="llama-8b", tokens=1e12)


def test_flops_and_gpu_hours_imply_mfu_without_contradicting_the_default_range():
    fp = estimate(flops=1e21, gpu_hours=2000, gpu="A100")
    implied = 1e21 / (2000 * 3600)
    assert fp.mfu == pytest.approx(implied / 312e12)
    assert "implied" in fp.sources["throughput"]
    assert estimate(params=7e9, tokens=1e12, gpu="A100").mfu is None  # default range: no MFU claimed
