"""Published footprints reproduced from their stated inputs: each test cites the paper, table or section of
every input and of the published total it checks."""

import json

import pytest

import wattwise
from wattwise.accounting import lbs
from wattwise.parts import estimate_parts, load_parts


def t(x):  # kg -> tonnes
    return float(x) / 1e3


# --- BLOOM: 50.5 t = 24.7 dynamic + 14.6 idle + 11.2 embodied ------------------------------------------------
# Luccioni, Viguier & Ligozat, "Estimating the Carbon Footprint of BLOOM, a 176B Parameter Language Model",
# JMLR 24(253) 2023 (arXiv 2211.02001). Inputs: Table 1 / Sec. 3 - 1,082,990 GPU-hours on A100 80GB at their
# 400 W TDP, 384 GPUs in 48 nodes (Jean Zay), French grid 57 gCO2eq/kWh, no PUE on these figures; Sec. 4
# (Table 2) - 256,646 kWh idle/infrastructure energy; Sec. 4.1 - 150 kg per GPU, 2,500 kg per server without
# GPUs, 6-year replacement rate, 85% usage. Published: Table 2 - 24.7 t dynamic, 14.6 t idle, 11.2 t embodied
# (7.57 servers + 3.64 GPUs), 50.5 t total.

def bloom(**kw):
    return wattwise.estimate(gpu="A100-80GB", gpus=384, nodes=48, gpu_hours=1_082_990, power_w=400,
                             intensity_g_per_kwh=57, pue=1.0, idle_energy_kwh=256_646, embodied=True, **kw)


def test_bloom_total_and_its_three_parts():
    fp = bloom()
    parts = fp.extra["co2e_by_component_kg"]
    assert t(parts["gpu"]["central"]) == pytest.approx(24.7, abs=0.05)
    assert t(parts["idle"]["central"]) == pytest.approx(14.6, abs=0.05)
    assert t(parts["embodied"]["central"]) == pytest.approx(11.2, abs=0.05)
    assert t(fp.co2e_kg) == pytest.approx(50.5, abs=0.05)
    emb = fp.extra["embodied"]
    assert t(emb["servers"]["central"]) == pytest.approx(7.57, abs=0.01)
    assert t(emb["accelerators"]["central"]) == pytest.approx(3.64, abs=0.01)
    # the embodied part has its range (60-318 kg per GPU, 1,000-2,500 kg per server, 4-6 years)
    assert fp.co2e_kg.low < float(fp.co2e_kg) < fp.co2e_kg.high
    assert float(fp.energy_by_component_kwh["gpu"]) == pytest.approx(433_196, rel=1e-6)
    assert "idle" in fp.sources["scope"]


def test_bloom_idle_from_idle_power_per_node_over_the_wall_clock():
    # the same idle energy as a per-node power: 256,646 kWh / (48 nodes x 2,820 h) = 1.896 kW per node
    wall_h = 1_082_990 / 384
    fp = wattwise.estimate(gpu="A100-80GB", gpus=384, nodes=48, gpu_hours=1_082_990, power_w=400,
                           intensity_g_per_kwh=57, pue=1.0, idle_power_w=256_646 / (48 * wall_h) * 1000)
    assert float(fp.energy_by_component_kwh["idle"]) == pytest.approx(256_646, rel=1e-9)
    assert "48 reserved nodes" in fp.sources["scope"]


def test_embodied_is_off_by_default_and_co2e_unchanged():
    on, off = bloom(), wattwise.estimate(gpu="A100-80GB", gpus=384, nodes=48, gpu_hours=1_082_990, power_w=400,
                                         intensity_g_per_kwh=57, pue=1.0, idle_energy_kwh=256_646)
    assert "embodied" not in off.extra.get("co2e_by_component_kg", {})
    assert float(on.co2e_kg) - float(off.co2e_kg) == pytest.approx(11_210, rel=0.01)


# --- Llama 2: 539 t from four models at 400 W and 350 W -------------------------------------------------------
# Touvron et al., "Llama 2: Open Foundation and Fine-Tuned Chat Models" (arXiv 2307.09288), Sec. 2.2.1 and
# Table 2: GPU-hours 184,320 (7B, 400 W), 368,640 (13B, 400 W), 1,038,336 (34B, 350 W), 1,720,320 (70B, 400 W);
# tCO2eq 31.22, 62.44, 153.90, 291.42, total 3,311,616 GPU-hours and 539.00 t. Table 2 is GPU power only; its
# factor 0.4235 kg/kWh is LLaMA's (Touvron et al. 2023a, arXiv 2302.13971, Sec. 6: PUE 1.1, US average
# 0.385 kg CO2eq/KWh).

LLAMA2 = [dict(name="Llama 2 7B", gpu_hours=184_320, power_w=400),
          dict(name="Llama 2 13B", gpu_hours=368_640, power_w=400),
          dict(name="Llama 2 34B", gpu_hours=1_038_336, power_w=350),
          dict(name="Llama 2 70B", gpu_hours=1_720_320, power_w=400)]


def test_llama2_total_from_its_per_model_parts():
    fp = estimate_parts(LLAMA2, gpu="A100-80GB", intensity_g_per_kwh=385, pue=1.1)
    assert t(fp.co2e_kg) == pytest.approx(539.00, abs=0.05)
    assert float(fp.gpu_hours) == pytest.approx(3_311_616)
    published = [31.22, 62.44, 153.90, 291.42]
    for row, tco2 in zip(fp.extra["parts"], published):
        assert t(row["co2e_kg"]["central"]) == pytest.approx(tco2, abs=0.02)
    assert fp.extra["power_scope"]["scope"] == "board"


def test_parts_file_json_and_yaml(tmp_path):
    f = tmp_path / "llama2.json"
    f.write_text(json.dumps({"common": {"gpu": "A100-80GB", "intensity_g_per_kwh": 385, "pue": 1.1},
                             "parts": LLAMA2}))
    parts, common = load_parts(f)
    assert t(estimate_parts(parts, **common).co2e_kg) == pytest.approx(539.0, abs=0.05)
    yaml = pytest.importorskip("yaml")
    y = tmp_path / "llama2.yaml"
    y.write_text(yaml.safe_dump({"common": common, "parts": LLAMA2}))
    assert t(estimate_parts(*load_parts(y)[:1], **load_parts(y)[1]).co2e_kg) == pytest.approx(539.0, abs=0.05)


def test_parts_ranges_add_and_each_part_keeps_its_region():
    fp = estimate_parts([dict(name="pre", gpu="H100", gpus=64, gpu_hours=10_000, region="FR"),
                         dict(name="ft", gpu="A100", gpus=8, gpu_hours=500, region="US-WV")])
    a, b = (wattwise.estimate(gpu="H100", gpus=64, gpu_hours=10_000, region="FR"),
            wattwise.estimate(gpu="A100", gpus=8, gpu_hours=500, region="US-WV"))
    assert float(fp.co2e_kg) == pytest.approx(float(a.co2e_kg) + float(b.co2e_kg))
    assert fp.co2e_kg.low == pytest.approx(a.co2e_kg.low + b.co2e_kg.low)
    assert fp.co2e_kg.high == pytest.approx(a.co2e_kg.high + b.co2e_kg.high)
    assert [r["zone"] for r in fp.extra["parts"]] == [a.zone, b.zone]


# --- Patterson et al. 2021: net (market-based) next to gross (location-based) -------------------------------
# Patterson et al., "Carbon Emissions and Large Neural Network Training" (arXiv 2104.10350), Table 4: chips,
# training days, measured system average power per accelerator (incl. memory, NIC, fans, host CPU), PUE,
# gross and net kg CO2e/kWh; published energy (MWh), gross and net tCO2e.

@pytest.mark.parametrize("chips, days, watts, pue, gross, net, mwh, gross_t, net_t", [
    (1024, 3.1, 288, 1.09, 0.201, 0.177, 24.1, 4.8, 4.3),     # GShard-600B, Google North Carolina, Apr 2020
    (1024, 27, 245, 1.10, 0.403, 0.330, 179, 72.2, 59.1),     # Switch Transformer, Google Georgia, Oct 2020
])
def test_patterson_net_vs_gross(chips, days, watts, pue, gross, net, mwh, gross_t, net_t):
    fp = wattwise.estimate(gpus=chips, duration_days=days, power_w=watts, scope="system", pue=pue,
                           intensity_g_per_kwh=gross * 1000, market_intensity_g_per_kwh=net * 1000)
    assert float(fp.energy_kwh) / 1000 == pytest.approx(mwh, rel=0.01)
    acc = fp.extra["accounting"]
    assert t(acc["location_based_kg"]["central"]) == pytest.approx(gross_t, rel=0.02)
    assert t(acc["market_based_kg"]["central"]) == pytest.approx(net_t, rel=0.02)
    assert acc["location_based_kg"]["central"] == pytest.approx(float(fp.co2e_kg))
    assert fp.extra["power_scope"]["scope"] == "system" and "Patterson" in fp.sources["scope"]


def test_market_based_from_a_ppa_rec_fraction():
    fp = wattwise.estimate(gpus=8, duration_h=10, power_w=400, pue=1.0, intensity_g_per_kwh=400, cfe_fraction=0.75)
    acc = fp.extra["accounting"]
    assert acc["market_based_kg"]["central"] == pytest.approx(0.25 * acc["location_based_kg"]["central"])
    with pytest.raises(wattwise.ContradictoryInputError):
        wattwise.estimate(gpus=8, duration_h=10, power_w=400, market_intensity_g_per_kwh=300)


# --- Strubell et al. 2019: whole-machine power, lbs ------------------------------------------------------------
# Strubell, Ganesh & McCallum, "Energy and Policy Considerations for Deep Learning in NLP" (ACL 2019), Sec. 2,
# eq. 1-2: p_t = 1.58 t (p_c + p_r + g p_g) / 1000 (PUE 1.58), CO2e = 0.954 p_t lbs (US EPA); Table 3: power
# (W, CPU + DRAM + GPUs of one machine), hours and CO2e (lbs).

@pytest.mark.parametrize("gpus, watts, hours, published_lbs", [
    (8, 1415.78, 12, 26),            # Transformer base, P100x8
    (8, 1515.43, 84, 192),           # Transformer big, P100x8
    (3, 517.66, 336, 262),           # ELMo, P100x3
    (8, 1515.43, 274_120, 626_155),  # Transformer big w/ neural architecture search
])
def test_strubell_lbs(gpus, watts, hours, published_lbs):
    fp = wattwise.estimate(gpu="P100-PCIe", gpus=gpus, nodes=1, duration_h=hours, server_power_w=watts, pue=1.58,
                           intensity_lbs_per_kwh=0.954)
    assert float(lbs(fp.co2e_kg)) == pytest.approx(published_lbs, rel=0.01, abs=0.6)
    assert fp.extra["power_scope"]["scope"] == "server"
    assert list(fp.energy_by_component_kwh) == ["server"]


# --- LLaMA-65B: ~21 days from 380 tokens/s/GPU -------------------------------------------------------------
# Touvron et al., "LLaMA: Open and Efficient Foundation Language Models" (arXiv 2302.13971), Sec. 2.4: "when
# training a 65B-parameter model, our code processes around 380 tokens/sec/GPU on 2048 A100 GPU with 80GB of
# RAM. This means that training over our dataset containing 1.4T tokens takes approximately 21 days."
# Table 15: LLaMA-65B 1,022,362 GPU-hours, 400 W, 449 MWh, 173 tCO2eq.

def test_llama_65b_days_from_tokens_per_second_per_gpu():
    fp = wattwise.estimate(params=65.2e9, tokens=1.4e12, gpu="A100-80GB", gpus=2048, tokens_per_s_per_gpu=380,
                           power_w=400, pue=1.1, intensity_g_per_kwh=385)
    assert float(fp.duration_s) / 86400 == pytest.approx(21, abs=0.5)
    assert float(fp.gpu_hours) == pytest.approx(1_022_362, rel=0.002)
    assert float(fp.energy_kwh) / 1000 == pytest.approx(449, rel=0.005)
    assert t(fp.co2e_kg) == pytest.approx(173, rel=0.005)


def test_duration_in_days_hours_seconds_must_agree():
    a = wattwise.estimate(gpus=8, duration_days=2, power_w=300)
    b = wattwise.estimate(gpus=8, duration_h=48, power_w=300)
    assert float(a.energy_kwh) == pytest.approx(float(b.energy_kwh))
    with pytest.raises(wattwise.ContradictoryInputError):
        wattwise.estimate(gpus=8, duration_days=2, duration_h=40, power_w=300)


def test_scope_is_always_stated():
    fp = wattwise.estimate(params=7e9, tokens=1e12, gpu="A100", region="FR")
    assert fp.extra["power_scope"]["scope"] == "board" and "board" in fp.sources["scope"]
    fp = wattwise.estimate(gpu="A100", gpus=16, gpu_hours=1000, host_power_w=1200, region="FR")
    assert set(fp.energy_by_component_kwh) == {"gpu", "host"}
    assert fp.extra["power_scope"]["nodes"] == 2
    # 2 nodes x 1.2 kW x (1000 GPU-h / 16 GPUs) = 150 kWh of host energy
    assert float(fp.energy_by_component_kwh["host"]) == pytest.approx(150)
    with pytest.raises(wattwise.InvalidValueError):
        wattwise.estimate(gpus=8, duration_h=1, scope="system")
    with pytest.raises(wattwise.ContradictoryInputError):
        wattwise.estimate(gpus=8, duration_h=1, power_w=300, scope="board", host_power_w=500)


# --- BLOOM's API: ~4 Wh per request, dominated by resident power ----------------------------------------------
# Luccioni et al. 2023, Sec. 5 (Table 5): BLOOM's API on 16 A100 40GB GPUs served 230,768 requests in 18 days
# for 914 kWh (~3.96 Wh per request). The projection with resident power per replica: 914 kWh / 18 days is a
# mean 2.12 kW for the one 16-GPU replica.

def test_serving_projection_with_resident_power_reproduces_bloom_api_energy():
    from wattwise.serving import BLOOM_API
    kw = 914.0 / (18 * 24)  # mean kW of the replica
    fp = wattwise.estimate(params=176e9, tokens=366e9, gpu="A100-40GB", gpus=16, gpu_hours=1_082_990,
                           inference_tokens=1e6, intensity_g_per_kwh=57, pue=1.0, serving_j_per_token=0.0,
                           serving_replicas=1, serving_resident_power_w=kw * 1000, inference_days=18,
                           inference_tokens_per_day=1e6 / 18)
    inf = fp.inference
    assert float(inf.energy_kwh) == pytest.approx(BLOOM_API["energy_kwh"], rel=1e-6)
    assert float(inf.energy_kwh) * 1000 / BLOOM_API["requests"] == pytest.approx(3.96, abs=0.01)
    assert set(inf.energy_by_component_kwh) == {"generation", "resident"}
    assert float(fp.lifetime.energy_kwh) == pytest.approx(float(fp.energy_kwh) + float(inf.energy_kwh))


def test_card_of_an_estimate_shows_scope_components_embodied_and_market():
    from wattwise.report import card_from_estimate
    fp = wattwise.estimate(gpu="A100-80GB", gpus=384, nodes=48, gpu_hours=1_082_990, power_w=400,
                           intensity_g_per_kwh=57, pue=1.0, idle_energy_kwh=256_646, embodied=True,
                           market_intensity_g_per_kwh=20)
    card = card_from_estimate(fp)
    text = " ".join(card.notes)
    assert "Power scope: board" in text and "idle" in text and "embodied 11.2 t CO2e" in text
    assert "market-based" in text
    assert any(c.name == "embodied carbon per unit, life and utilisation" for c in card.methods)
    for fmt in ("md", "json", "html", "latex", "modelcard"):
        assert card.render(fmt)
    # a round trip through the estimate's JSON keeps the whole bill on the card
    from wattwise.report.from_estimate import footprint_from_dict
    again = card_from_estimate(footprint_from_dict(json.loads(json.dumps(fp.to_dict()))))
    assert again.notes == card.notes
