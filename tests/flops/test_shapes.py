"""Built-in shapes on the meta device: Megatron's formula, the 6N gap, LLaMA-70B in seconds, HF configs."""

import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from wattwise import flops as wf  # noqa: E402
from wattwise.errors import InvalidValueError, MissingExtraError, UnknownNameError  # noqa: E402
from wattwise.flops.arch import count_arch, cross_check, gap_components  # noqa: E402

GPT2 = ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"]


@pytest.mark.parametrize("arch", sorted(wf.ARCHS))
def test_built_model_has_the_parameter_count_of_its_shape(arch):
    m = wf.build_model(arch)  # meta: no memory
    assert sum(p.numel() for p in m.parameters()) == wf.get_shape(arch).params()


@pytest.mark.parametrize("arch", GPT2)
def test_megatron_formula_equals_traced_training_count_of_gpt_shapes(arch):
    s = wf.get_shape(arch)
    r = count_arch(arch, batch=2, seq=s.n_ctx, train=True)
    assert r.total == wf.megatron_training_flops(2, s.n_ctx, s.n_layers, s.d_model, s.vocab)
    # with recomputation the layers (not the logits) run forward once more: 96(...) of the paper
    layers_fwd = r.forward - wf.linear_flops(2 * s.n_ctx, s.d_model, s.vocab)
    assert r.total + layers_fwd == wf.megatron_training_flops(2, s.n_ctx, s.n_layers, s.d_model, s.vocab,
                                                              recompute=True)


@pytest.mark.parametrize("arch", sorted(wf.ARCHS))
def test_6n_gap_is_explained_term_by_term(arch):
    shape, seq = wf.get_shape(arch), 64
    r = count_arch(arch, batch=1, seq=seq, train=True)
    g = gap_components(shape, seq)
    explained = 6 * shape.params() + g["attention"] + g["lookup_only_embeddings"] + g["biases_and_norms"]
    assert r.total == seq * explained
    assert r.total != 6 * shape.params() * seq  # 6N alone is not exact


def test_flops_per_token_equals_the_traced_count():
    r = count_arch("llama-7b", batch=1, seq=256)
    assert r.forward == 256 * wf.flops_per_token("llama-7b", seq=256)["forward_flops_per_token"]


def test_cross_check_rows_are_consistent():
    r = count_arch("gpt2", seq=256, train=True)
    rows = {row["method"]: row for row in cross_check("gpt2", seq=256, counted=r.total)}
    assert rows["traced (wattwise)"]["gap_pct"] == 0.0
    assert rows["exact formula"]["flops"] == r.total
    assert rows["Megatron 72BslH^2(1+s/6H+V/12lH)"]["gap_pct"] == 0.0
    assert rows["6N (all parameters)"]["gap_pct"] < 0  # attention missing outweighs the lookup tables
    fwd_rows = cross_check("gpt2", seq=256, train=False)
    assert fwd_rows[0]["flops"] * 3 == rows["exact formula"]["flops"]


def test_llama_7b_and_70b_count_on_meta_quickly_with_little_memory():
    code = (
        "import resource, time, json\n"
        "from wattwise.flops.arch import count_arch\n"
        "from wattwise.flops import get_shape\n"
        "out = {}\n"
        "for a in ('llama-7b', 'llama-70b'):\n"
        "    t = time.perf_counter(); r = count_arch(a, batch=1, seq=4096, train=True)\n"
        "    out[a] = [time.perf_counter() - t, r.forward, get_shape(a).forward_flops(1, 4096)['total'], r.backward]\n"
        "out['rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(out))\n"
    )
    res = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True, timeout=300).stdout)
    for a in ("llama-7b", "llama-70b"):
        seconds, fwd, truth, bwd = res[a]
        assert fwd == truth and bwd == 2 * fwd
        assert seconds < 30
    assert res["rss_mb"] < 2048  # a 70B model in fp32 would need 276 GB


def test_bad_arch_and_seq_are_rejected():
    with pytest.raises(UnknownNameError, match="did you mean 'gpt2'"):
        count_arch("gtp2")
    with pytest.raises(InvalidValueError, match="exceeds the context"):
        count_arch("gpt2", seq=2048)


def _write(tmp_path, cfg):
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    return tmp_path


LLAMA_CFG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 256,
             "intermediate_size": 688, "num_attention_heads": 8, "num_key_value_heads": 4, "num_hidden_layers": 2,
             "vocab_size": 1000, "max_position_embeddings": 512, "tie_word_embeddings": False,
             "hidden_act": "silu", "rms_norm_eps": 1e-5}


def test_hf_config_estimate_matches_the_builtin_formula(tmp_path):
    from wattwise.flops.hf import estimate_from_config
    est = estimate_from_config(_write(tmp_path, LLAMA_CFG), batch=2, seq=128, train=True)
    shape = wf.TransformerShape("x", 2, 256, 8, 688, 1000, 512, n_kv_heads=4, gated_mlp=True,
                                tied_embeddings=False, learned_positions=False, bias=False, norm="rmsnorm")
    assert est["forward_flops"] == shape.forward_flops(2, 128)["total"]
    assert est["total_flops"] == 3 * est["forward_flops"]
    # and the same shape built by wattwise traces to that number
    assert count_arch(shape, batch=2, seq=128).forward == est["forward_flops"]


def test_hf_config_counts_with_transformers_or_falls_back_with_the_estimate(tmp_path):
    from wattwise.flops.hf import HFModelUnavailable, count_hf_config
    path = _write(tmp_path, LLAMA_CFG)
    try:
        import transformers  # noqa: F401
    except ImportError:
        with pytest.raises(HFModelUnavailable, match="transformers") as exc:
            count_hf_config(path, batch=1, seq=64)
        assert isinstance(exc.value, MissingExtraError)
        assert exc.value.estimate["forward_flops"] > 0
        return
    r = count_hf_config(path, batch=1, seq=64)
    from wattwise.flops.hf import estimate_from_config
    assert r.forward == estimate_from_config(path, 1, 64)["forward_flops"]


def test_hf_config_errors_name_the_problem(tmp_path):
    from wattwise.flops.hf import estimate_from_config
    with pytest.raises(InvalidValueError, match="no config.json"):
        estimate_from_config(tmp_path / "missing")
    bad = dict(LLAMA_CFG)
    del bad["vocab_size"]
    with pytest.raises(Exception, match="vocab_size"):
        estimate_from_config(_write(tmp_path, bad))
