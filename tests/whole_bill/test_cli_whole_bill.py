"""`wattwise estimate` flags of the whole bill, and `wattwise bench-serve` (mounted here on a test app)."""

import json

import pytest

from tests.test_cli import run_cli


def test_estimate_embodied_idle_and_scope_printed():
    code, out, _ = run_cli("estimate", "--gpu", "A100-80GB", "--gpus", "384", "--nodes", "48", "--gpu-hours",
                           "1082990", "--power-w", "400", "--intensity", "57", "--pue", "1", "--idle-energy-kwh",
                           "256646", "--embodied", "--lbs")
    assert code == 0
    assert "Power scope: board" in out and "Carbon by component" in out and "11.2 t CO2e" in out
    assert "Carbon in lbs" in out


def test_estimate_market_based_and_json_lbs():
    code, out, _ = run_cli("estimate", "--gpus", "1024", "--duration-days", "27", "--power-w", "245", "--scope",
                           "system", "--pue", "1.1", "--intensity", "403", "--market-intensity", "330", "--json",
                           "--lbs")
    assert code == 0
    d = json.loads(out)
    assert d["accounting"]["market_based_kg"]["central"] / 1e3 == pytest.approx(59.1, rel=0.02)
    assert d["co2e_lbs"]["central"] == pytest.approx(d["co2e_kg"] / 0.45359237)
    assert d["power_scope"]["scope"] == "system"


def test_estimate_parts_file(tmp_path):
    f = tmp_path / "parts.json"
    f.write_text(json.dumps([{"name": "a", "gpu_hours": 1000, "power_w": 400},
                             {"name": "b", "gpu_hours": 500, "power_w": 350}]))
    code, out, _ = run_cli("estimate", "--parts", str(f), "--gpu", "A100", "--intensity", "400", "--pue", "1",
                           "--json")
    assert code == 0
    d = json.loads(out)
    assert d["energy_kwh"] == pytest.approx(400 + 175) and [p["name"] for p in d["parts"]] == ["a", "b"]
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, _, err = run_cli("estimate", "--parts", str(bad))
    assert code == 2


def test_bench_serve_on_a_config(tmp_path):
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import typer
    from typer.testing import CliRunner
    from wattwise.cli.serve import bench_serve_command
    cfg = transformers.LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                   num_attention_heads=2, num_key_value_heads=2)
    cfg.save_pretrained(tmp_path)
    app = typer.Typer()
    app.command("bench-serve")(bench_serve_command)
    app.command("noop")(lambda: None)
    res = CliRunner().invoke(app, ["bench-serve", "--config", str(tmp_path), "--prompt-tokens", "8",
                                   "--batch-sizes", "1,2", "--max-new-tokens", "3", "--power-w", "20", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout[res.stdout.index("["):])
    assert [r["batch_size"] for r in rows] == [1, 2] and all(r["decode_tokens_per_s"] > 0 for r in rows)
