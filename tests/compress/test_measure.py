"""measure(): accuracy, params, bytes, counted FLOPs, latency, energy (or a note why not), footprint."""

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from wattwise.compress import (compare_latency, measure, measure_variants, moe_accounting, quantize,  # noqa: E402
                               ratios)
from wattwise.compress.toys import small_mlp, small_transformer  # noqa: E402
from wattwise.errors import InvalidValueError  # noqa: E402
from wattwise.flops import moe_forward_flops_per_token  # noqa: E402
from wattwise.pareto import pareto_front  # noqa: E402


def _mlp():
    torch.manual_seed(0)
    return small_mlp(d_in=64, hidden=128, depth=2), torch.randn(32, 64)


def test_measure_fields_and_footprint():
    model, x = _mlp()
    labels = model(x).argmax(-1)

    def evaluate(m):
        return float((m(x).argmax(-1) == labels).float().mean())

    r = measure(model, evaluate, (x,), name="fp32", energy_min_s=0.2, repeats=5, ledger=False)
    assert r.accuracy == 1.0
    assert r.params == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert 4 * r.params < r.size_bytes < 4 * r.params + 8192        # fp32 + torch.save overhead
    matmul = 2 * (64 * 128 + 128 * 128 + 128 * 10)                  # 2 FLOPs per multiply-accumulate
    assert matmul <= r.flops_per_sample <= matmul * 1.1             # + bias adds, ReLU
    assert r.batch_size == 32 and r.threads == torch.get_num_threads()
    assert r.latency_p25_s <= r.latency_s <= r.latency_p75_s and r.latency_min_s <= r.latency_s
    assert r.compiled_latency_s is None and r.compile_time_s is None
    fp = r.footprint
    assert fp.method == "measured" and fp.flops == pytest.approx(r.flops_per_sample * 1000)
    assert fp.duration_s == pytest.approx(r.latency_s / 32 * 1000)
    if r.energy_per_1000_kwh is None:     # tracker absent or no meter here: said, not crashed
        assert "energy" in r.notes["energy_per_1000_kwh"] and "energy_kwh" in fp.missing
    else:
        assert r.energy_per_1000_kwh > 0 and fp.energy_kwh == pytest.approx(r.energy_per_1000_kwh, rel=1e-6)
    d = r.to_dict()
    assert d["latency_per_sample_s"] == pytest.approx(r.latency_s / 32) and d["footprint"]["method"] == "measured"


def test_variants_ratios_and_pareto():
    model, x = _mlp()
    q = quantize(model, "bf16").model
    ms = measure_variants({"fp32": model, "bf16": q}, lambda m: 0.9, (x,), energy=False, repeats=5,
                          flops_models={"bf16": model})
    rows = {r["name"]: r for r in ratios(ms, "fp32")}
    assert rows["fp32"]["speedup"] == 1.0 and rows["bf16"]["size_ratio"] > 1.9
    assert ms[1].notes["flops_per_sample"] == "counted on the unquantized architecture"
    assert ms[0].notes["energy_per_1000_kwh"].endswith("(energy=False)")
    front = pareto_front([m.to_dict() for m in ms], cost="bytes")
    assert [f["name"] for f in front] == ["bf16"]
    with pytest.raises(InvalidValueError, match="baseline 'int8'"):
        ratios(ms, "int8")


def test_compare_latency_needs_repeats():
    with pytest.raises(InvalidValueError, match="repeats"):
        compare_latency({"a": torch.nn.Identity()}, torch.zeros(1), repeats=2)


@pytest.mark.compile
def test_compiled_latency_and_compile_time():
    model = torch.nn.Linear(16, 16).eval()
    r = measure(model, None, torch.randn(4, 16), energy=False, compile=True, repeats=3)
    assert (r.compile_time_s and r.compile_time_s > 0 and r.compiled_latency_s > 0) or "compiled_latency_s" in r.notes


def test_moe_total_vs_active():
    torch.manual_seed(0)
    d, E, k = 64, 4, 2
    m = small_transformer(vocab=128, d_model=d, n_heads=4, n_layers=2, n_experts=E, top_k=k)
    ids = torch.randint(0, 128, (2, 16))
    a = moe_accounting(m, ids)
    assert a.moe_layers == {"blocks.0.mlp": (E, k), "blocks.1.mlp": (E, k)}
    assert a.active_params == pytest.approx(a.total_params - a.expert_params * (1 - k / E))
    assert a.memory_bytes_total == 4 * a.total_params and a.memory_bytes_active < a.memory_bytes_total
    assert a.tokens == 32
    # routed expert FLOPs per token per layer = k experts x 2 matmuls (no router) -> all experts = E / k of that
    per_layer_routed = moe_forward_flops_per_token(d, 4 * d, E, k) - 2 * d * E
    assert a.flops_per_token_all_experts - a.flops_per_token_active == pytest.approx(
        2 * per_layer_routed * (E / k - 1), rel=1e-9)
    dense = small_transformer(vocab=128, d_model=d, n_heads=4, n_layers=2)
    with pytest.raises(InvalidValueError, match="no mixture-of-experts layer"):
        moe_accounting(dense)


def test_import_is_light():
    code = ("import sys, wattwise; before = set(sys.modules); import wattwise.compress, wattwise.pareto; "
            "new = set(sys.modules) - before; "
            "heavy = [m for m in new if m.split('.')[0] in ('torch', 'torchao', 'torch_pruning', 'numpy', "
            "'matplotlib')]; print(heavy); sys.exit(1 if heavy else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
