import contextlib
import io
import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from wattwise.cli.main import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def test_version():
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("wattwise ")


def test_estimate_seed_example_table():
    code, out, _ = run_cli("estimate", "--params", "7e9", "--tokens", "1.4e12", "--flop-per-s", "150e12")
    assert code == 0
    assert "58.8 ZFLOPs" in out and "108,889" in out


def test_estimate_accepts_suffixes():
    _, a, _ = run_cli("estimate", "--params", "7B", "--tokens", "1.4T", "--json")
    assert json.loads(a)["flops"] == pytest.approx(5.88e22)


def test_estimate_json_keys():
    code, out, _ = run_cli("estimate", "--gpu-hours", "184320", "--power-w", "400", "--intensity", "423.4",
                           "--pue", "1.0", "--json")
    assert code == 0
    d = json.loads(out)
    for key in ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd", "low", "high", "inputs",
                "sources"):
        assert key in d
    assert d["flops"] is None and d["cost_usd"] is None
    assert d["co2e_kg"] == pytest.approx(31216.4352)
    assert set(d["low"]) == set(d["high"]) == {"flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd"}


def test_estimate_full_chain_and_inference():
    code, out, _ = run_cli("estimate", "--params", "70e9", "--tokens", "1.4e12", "--gpu", "A100-80GB", "--gpus",
                           "1024", "--mfu", "0.4", "--region", "US-WV", "--inference-tokens-per-day", "1e10",
                           "--inference-days", "365")
    assert code == 0
    assert "t CO2e" in out and "Training vs inference" in out and "overtakes training on day" in out


def test_where_table_and_json():
    code, out, _ = run_cli("where", "--params", "7e9", "--tokens", "1.4e12", "--gpu", "H100-SXM")
    assert code == 0 and "lowest CO2e first" in out
    code, out, _ = run_cli("where", "--params", "7e9", "--tokens", "1.4e12", "--gpu", "H100-SXM", "--zones",
                           "US-WV,CA-QC", "--json")
    rows = json.loads(out)
    assert [r["zone"] for r in rows] == ["CA-QC", "US-WV"] and rows[1]["ratio_to_best"] > 10


@pytest.mark.parametrize("what", ["gpus", "zones", "pue", "prices", "cpus"])
def test_catalog_tables(what):
    code, out, _ = run_cli("catalog", what)
    assert code == 0 and "rows" in out


def test_catalog_search_json():
    code, out, _ = run_cli("catalog", "zones", "--search", "quebec", "--json")
    rows = json.loads(out)
    assert code == 0 and any(r["zone_id"] == "CA-QC" for r in rows)
    code, out, _ = run_cli("catalog", "gpus", "--search", "h100", "--json")
    assert {r["accelerator_id"] for r in json.loads(out)} >= {"nvidia_h100_sxm5_80gb", "nvidia_h100_pcie_80gb"}


@pytest.mark.parametrize("argv, needle", [
    (["estimate", "--params", "-7e9", "--tokens", "1e12"], "params must be > 0"),
    (["estimate", "--params", "nan"], "finite"),
    (["estimate", "--params", "inf"], "finite"),
    (["estimate", "--params", "seven"], "must be a number"),
    (["estimate", "--gpu", "A1000", "--gpu-hours", "1"], "did you mean"),
    (["estimate", "--region", "Atlantis", "--gpu-hours", "1", "--power-w", "300"], "unknown grid zone"),
    (["estimate", "--gpu", "A100", "--mfu", "2", "--gpu-hours", "1"], "mfu"),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--flops", "1"], "contradicts"),
    (["where", "--params", "7e9", "--tokens", "1e12", "--gpu", "A100", "--kind", "moon"], "unknown zone kind"),
    (["catalog", "zones", "--kind", "moon"], "unknown zone kind"),
])
def test_bad_input_one_red_line_exit_2(argv, needle):
    code, out, err = run_cli(*argv)
    assert code == 2
    assert needle in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) <= 3  # one logical line (may soft-wrap in narrow terminals)


def test_usage_error_exit_2():
    code, out, err = run_cli("estimate", "--gpus", "many")
    assert code == 2 and "Traceback" not in out + err


OPTIONS = ["--params", "--tokens", "--flops", "--active-params", "--gpu", "--gpus", "--mfu", "--flop-per-s",
           "--gpu-hours", "--duration-s", "--power-w", "--energy-kwh", "--region", "--intensity", "--pue", "--dtype",
           "--price-per-gpu-hour", "--inference-tokens", "--inference-tokens-per-day", "--inference-days"]
VALUES = st.one_of(st.sampled_from(["0", "-1", "nan", "inf", "-inf", "1e400", "abc", "", "7B", "1.4T", "0.5",
                                    "A100", "US-WV", "1e-300", "3", "H100", "fp8", "%s", "--json"]),
                   st.text(max_size=8), st.floats().map(repr), st.integers().map(str))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["estimate", "where"]), st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=5))
def test_cli_never_tracebacks_on_random_arguments(command, pairs):
    argv = [command] + [x for pair in pairs for x in pair]
    if command == "where":
        argv += ["--zones", "FRA,US-WV"]
    code, out, err = run_cli(*argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in out + err and "internal error" not in err, (argv, err)


def test_console_script_installed():
    proc = subprocess.run([sys.executable, "-m", "wattwise", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "wattwise" in proc.stdout
