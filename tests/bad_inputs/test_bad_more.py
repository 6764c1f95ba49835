"""Bad inputs to the ledger, runs merge, serve-metrics and bench-serve commands (see harness.py)."""

import json

import pytest

from tests.bad_inputs.harness import assert_clean_failure


def _files(tmp):
    (tmp / "afile").write_text("not a ledger\n")
    (tmp / "list.json").write_text(json.dumps([1, 2]))
    (tmp / "notjson.json").write_text("{nope")
    (tmp / "odd.json").write_text(json.dumps({"model_type": "no-such-architecture"}))


CASES = [
    (["ledger", "status", "--ledger", "missing.db"], "missing.db"),
    (["ledger", "status", "--ledger", "postgresql://nobody@127.0.0.1:1/x"], "cannot open the ledger"),
    (["ledger", "migrate", "--ledger", "afile"], "afile"),
    (["ledger", "init", "--ledger", "."], "folder"),
    (["runs", "merge", "missing.db", "--into", "out.db"], "missing.db"),
    (["runs", "merge", "afile", "--into", "out.db"], "afile"),
    (["serve-metrics", "--port", "-5"], "--port"),
    (["serve-metrics", "--port", "70000"], "--port"),
    (["serve-metrics", "--recent", "-1"], "--recent"),
    (["bench-serve"], "--model"),
    (["bench-serve", "--config", "missing.json"], "missing.json"),
    (["bench-serve", "--config", "list.json"], "model_type"),
    (["bench-serve", "--config", "notjson.json"], "JSON"),
    (["bench-serve", "--config", "odd.json"], "odd.json"),
]


@pytest.mark.parametrize("argv,mentions", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, argv, mentions):
    _files(tmp_path)
    assert_clean_failure(argv, tmp_path, mentions)
