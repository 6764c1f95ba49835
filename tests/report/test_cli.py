"""`wattwise report` through typer's CliRunner, on a local app that mounts `report_command` as the lead will."""

import json

import pytest
import typer
from typer.testing import CliRunner

import wattwise
from wattwise.cli.report import report_command
from wattwise.errors import WattwiseError

from .ledger_fixture import XSS

app = typer.Typer()
app.command("report")(report_command)


@app.callback()
def _root() -> None:
    """test app"""


runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["report", *map(str, args)])


def test_markdown_to_stdout(ledger_path):
    r = run("--project", "demo", "--ledger", ledger_path)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("# Efficiency card: project demo") and "&lt;script&gt;" in r.stdout


@pytest.mark.parametrize("fmt, first", [("md", "# "), ("json", "{"), ("latex", "% "), ("html", "<!DOCTYPE html>"),
                                        ("modelcard", "---")])
def test_every_format_to_a_file(ledger_path, tmp_path, fmt, first):
    out = tmp_path / f"card.{fmt}"
    r = run("--tag", "sweep", "--ledger", ledger_path, "--format", fmt, "-o", out)
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(first)
    assert (XSS in text) if fmt == "json" else (XSS not in text)   # JSON keeps data as data; the rest escape it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary file left


def test_ids_and_inference(ledger_path):
    r = run("run-0001", "run-0004", "--ledger", ledger_path, "-f", "json", "--params", "1e8",
            "--inference-tokens", "1e12")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [x["id"] for x in doc["runs"]] == ["run-0001-baseline", "run-0004-distilled"]
    assert doc["inference"]["tokens"] == 1e12


def test_estimate_json(tmp_path):
    fp = wattwise.estimate(params=7e9, tokens=1.4e12, gpu="A100", region="FRA")
    src = tmp_path / "estimate.json"
    src.write_text(json.dumps(fp.to_dict()))
    variants = tmp_path / "variants.json"
    variants.write_text(json.dumps([{"name": "fp16", "accuracy": 0.9, "energy_kwh": 2.0},
                                    {"name": "int4", "accuracy": 0.89, "energy_kwh": 0.6}]))
    r = run("--estimate-json", src, "--variants", variants, "-f", "modelcard", "--training-type", "fine-tuning")
    assert r.exit_code == 0, r.output
    assert 'training_type: "fine-tuning"' in r.stdout
    assert f"emissions: {fp.co2e_kg * 1000:.6g}" in r.stdout
    r = run("--estimate-json", src, "--variants", variants, "-f", "md")
    assert "## Pareto comparison" in r.stdout and "int4" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--format", "pdf"], "accepted: md, json, latex, html, modelcard"),
    (["--plots", "png", "--format", "html"], "accepted: builtin, matplotlib, none"),
    (["--project", "nope"], "no runs"),
    (["zzzz"], "no run 'zzzz'"),
])
def test_errors_are_wattwise_errors(ledger_path, args, message):
    r = run(*args, "--ledger", ledger_path)
    assert r.exit_code != 0
    assert isinstance(r.exception, WattwiseError) and message in str(r.exception)


def test_error_cases_without_ledger(tmp_path):
    r = run("--project", "x", "--ledger", tmp_path / "none.db")
    assert isinstance(r.exception, WattwiseError) and "no ledger" in str(r.exception)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run("--estimate-json", bad)
    assert isinstance(r.exception, WattwiseError) and "not valid JSON" in str(r.exception)
    r = run("--estimate-json", bad, "--project", "x")
    assert isinstance(r.exception, WattwiseError) and "not both" in str(r.exception)
    r = run("--project", "demo", "-o", tmp_path / "no" / "such" / "dir.md", "--ledger", tmp_path / "none.db")
    assert isinstance(r.exception, WattwiseError)
