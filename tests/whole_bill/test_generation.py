"""`measure_generation` on a small causal LM built from a transformers config (no download), on CPU."""

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_llama():
    cfg = transformers.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=128)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(cfg)


def test_measure_generation_prefill_decode_and_flops(tiny_llama):
    from wattwise.serving import measure_generation
    prompts = [list(range(1, 13)), list(range(20, 36))]
    rows = measure_generation(tiny_llama, prompts, batch_sizes=(1, 2), max_new_tokens=6, intensity_g_per_kwh=57,
                              power_w=50, count=True)
    assert [r.batch_size for r in rows] == [1, 2]
    for r in rows:
        assert r.prompt_tokens == 12 and r.new_tokens == 6   # truncated to the shortest prompt
        assert r.prefill_s > 0 and r.decode_s > 0
        assert r.decode_tokens_per_s == pytest.approx(r.batch_size * 6 / r.decode_s)
        assert r.latency_per_token_s == pytest.approx(r.decode_s / 6)
        assert r.energy_method in ("measured", "estimated", "mixed")
        assert r.j_per_token_decode > 0 and r.j_per_token_prefill > 0
        assert r.co2e_per_1000_tokens_kg == pytest.approx(r.kwh_per_1000_tokens * 57 / 1000)
        f = r.decode_flops_per_token
        # 2N over every matmul weight (4 attention + 3 MLP projections x 2 layers + the head) ...
        n = 2 * (4 * 64 * 64 + 3 * 64 * 128) + 256 * 64
        assert f["dense"] == 2 * n
        # ... + 4 x layers x context x heads x head_dim at the mean decode context 12 + 3
        assert f["attention"] == 4 * 2 * 15 * 64
        # against the counter (traced on the meta device): within 1% (norms, rotary, softmax are extra)
        assert f["counted"] == pytest.approx(f["total"], rel=0.01)


def test_measured_j_per_token_feeds_the_serving_projection(tiny_llama):
    import wattwise
    from wattwise.serving import measure_generation
    r = measure_generation(tiny_llama, [list(range(1, 9))], max_new_tokens=4, power_w=30)[0]
    fp = wattwise.estimate(params=1e6, tokens=1e9, gpu="A100", gpu_hours=10, region="FR", inference_tokens=1e6,
                           serving_j_per_token=r.j_per_token_decode)
    assert float(fp.inference.it_energy_kwh) == pytest.approx(1e6 * r.j_per_token_decode / 3.6e6)
    assert "J/token" in fp.sources["inference"]
