"""Tables at 80 columns (a pipe) and narrower never cut an id or a number: columns drop (named in the caption)
or rows become blocks, and every value the table shows appears whole."""

import json
import re

import pytest

from tests.bad_inputs.harness import run_cli
from tests.report.ledger_fixture import make_ledger

ELLIPSIS = ("…", "...")


def _assert_whole(text: str, values: list[str]):
    assert not any(e in line for line in text.splitlines() for e in ELLIPSIS if "more (use" not in line), text
    flat = re.sub(r"\s+", " ", text)
    for v in values:
        assert v in text or v in flat, f"{v!r} missing or cut\n{text}"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return make_ledger(tmp_path_factory.mktemp("narrow") / "ledger.db")


@pytest.mark.parametrize("columns", ["80", "50"])
def test_runs_list_keeps_ids_and_numbers_whole(ledger, tmp_path, columns):
    listed = run_cli(["runs", "list", "--json", "--ledger", str(ledger)], tmp_path)
    ids = [r["id"] for r in json.loads(listed.stdout)]
    r = run_cli(["runs", "list", "--ledger", str(ledger)], tmp_path, env={"COLUMNS": columns})
    assert r.returncode == 0, r.stderr
    _assert_whole(r.stdout, ids)
    assert max(len(line) for line in r.stdout.splitlines()) <= int(columns)


@pytest.mark.parametrize("columns", ["80", "44"])
def test_where_keeps_zone_ids_and_numbers_whole(tmp_path, columns):
    job = ["--params", "7e9", "--tokens", "1.4e12", "--gpu", "A100", "--kind", "cloud-region", "--top", "6"]
    data = json.loads(run_cli(["where", *job, "--json"], tmp_path).stdout)[:6]
    r = run_cli(["where", *job], tmp_path, env={"COLUMNS": columns})
    assert r.returncode == 0, r.stderr
    names = [d["zone"] for d in data]
    _assert_whole(r.stdout, names)
    assert max(len(line) for line in r.stdout.splitlines()) <= int(columns)


def test_compare_keeps_variant_names_and_numbers_whole(tmp_path):
    rows = [{"name": f"variant-with-a-long-name-{i}", "accuracy": 0.9 - i / 100, "flops_per_sample": 1e9 * (i + 1),
             "params": 1e6 * (10 - i), "size_bytes": 4e7, "latency_s": 0.002 * (i + 1),
             "energy_per_1000_kwh": 1e-4 * (i + 1), "cost_per_1000_usd": 0.003 * (i + 1)} for i in range(4)]
    (tmp_path / "v.json").write_text(json.dumps(rows))
    r = run_cli(["compare", "v.json"], tmp_path, env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    _assert_whole(r.stdout, [x["name"] for x in rows])
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    assert not re.search(r"\d[eE][-+]?\d", r.stdout)            # no e-notation in the table
