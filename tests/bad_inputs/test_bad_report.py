"""Bad `wattwise report ...` invocations: each exits 2 with one line on stderr that names the bad value (and what
is accepted), no traceback, and nothing written or created under the test's folder: no output file (whole or
half), no ledger (`report` only reads it), no temporary file.

Inputs are made in the test's folder before the run; a read-only destination is a path under a regular FILE
(`afile/out.html`), since tests may run as root, for whom chmod does not block writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.report.ledger_fixture import make_ledger

from .harness import assert_clean_failure

# name -> how to make it in the test's folder
FILES = {
    "bin.json": lambda p: p.write_bytes(b"\xff\xfe\x00\x01binary\x00"),
    "latin1.json": lambda p: p.write_bytes('{"title": "café"}'.encode("latin-1")),
    "list.json": lambda p: p.write_text("[1, 2, 3]"),
    "string.json": lambda p: p.write_text('"an estimate"'),
    "typed.json": lambda p: p.write_text('{"flops": "lots"}'),
    "bad_low.json": lambda p: p.write_text('{"co2e_kg": 1.0, "low": [1, 2]}'),
    "noquantity.json": lambda p: p.write_text('{"hello": 1}'),
    "empty.json": lambda p: p.write_text(""),
    "broken.json": lambda p: p.write_text('{"flops": 1e20,'),
    "estimate.json": lambda p: p.write_text(json.dumps({"flops": 1e20, "co2e_kg": 3.0, "energy_kwh": 40.0})),
    "variants_obj.json": lambda p: p.write_text('{"name": "int8"}'),
    "afile": lambda p: p.write_text("a regular file, not a folder\n"),
    "adir": lambda p: p.mkdir(),
    "notdb.db": lambda p: p.write_text("not an SQLite database\n"),
    "zero.db": lambda p: p.write_bytes(b""),
    "ledger.db": make_ledger,
}

L = ["--ledger", "ledger.db"]
CASES = [
    # --output: its folder is a file, does not exist, or the path is a folder
    ("out-under-file", ["--project", "demo", *L, "-f", "html", "-o", "afile/out.html"], ["afile/out.html", "not a folder"]),
    ("out-missing-folder", ["--project", "demo", *L, "-o", "no/such/folder/card.md"], ["no/such/folder", "does not exist"]),
    ("out-is-folder", ["--project", "demo", *L, "-o", "adir"], ["'adir'", "folder"]),
    ("out-empty", ["--project", "demo", *L, "-o", ""], ["--output", "empty"]),
    # --estimate-json: missing, a folder, binary, not UTF-8, empty, not JSON, wrongly typed
    ("est-missing", ["--estimate-json", "missing.json"], ["missing.json", "does not exist"]),
    ("est-folder", ["--estimate-json", "adir"], ["adir", "folder"]),
    ("est-binary", ["--estimate-json", "bin.json"], ["bin.json", "binary"]),
    ("est-latin1", ["--estimate-json", "latin1.json"], ["latin1.json", "UTF-8"]),
    ("est-empty", ["--estimate-json", "empty.json"], ["empty.json", "empty"]),
    ("est-broken", ["--estimate-json", "broken.json"], ["broken.json", "not valid JSON"]),
    ("est-list", ["--estimate-json", "list.json"], ["JSON object", "list"]),
    ("est-string", ["--estimate-json", "string.json"], ["JSON object", "str"]),
    ("est-typed", ["--estimate-json", "typed.json"], ["flops", "'lots'"]),
    ("est-bad-low", ["--estimate-json", "bad_low.json"], ["low", "JSON object"]),
    ("est-noquantity", ["--estimate-json", "noquantity.json"], ["no footprint quantity", "wattwise estimate --json"]),
    ("est-and-project", ["--estimate-json", "estimate.json", "--project", "demo"], ["not both"]),
    ("est-with-inference", ["--estimate-json", "estimate.json", "--params", "1e8", "--inference-tokens", "1e9"],
     ["inference"]),
    # options out of their accepted values
    ("training-type", ["--estimate-json", "estimate.json", "-f", "modelcard", "--training-type", "bogus"],
     ["'bogus'", "pre-training", "fine-tuning"]),
    ("training-type-other-format", ["--project", "demo", *L, "--training-type", "pretraining"],
     ["'pretraining'", "pre-training, fine-tuning"]),
    ("format", ["--project", "demo", *L, "--format", "pdf"], ["'pdf'", "md, json, latex, html, modelcard"]),
    ("format-before-ledger", ["--format", "docx", "--ledger", "missing.db"], ["'docx'", "accepted"]),
    ("plots", ["--project", "demo", *L, "-f", "html", "--plots", "png"], ["'png'", "builtin, matplotlib, none"]),
    ("cost-axis", ["--project", "demo", *L, "--cost-axis", "bogus"], ["'bogus'", "accepted"]),
    ("variants-object", ["--project", "demo", *L, "--variants", "variants_obj.json"], ["variants_obj.json", "JSON list"]),
    ("variants-binary", ["--project", "demo", *L, "--variants", "bin.json"], ["bin.json", "binary"]),
    ("params-negative", ["--project", "demo", *L, "--params", "-5", "--inference-tokens", "1e9"], ["params", "-5"]),
    ("params-not-number", ["--project", "demo", *L, "--params", "many"], ["'many'"]),
    # the ledger: missing (never created), a folder, not a database, empty; the default one missing
    ("ledger-missing", ["--project", "demo", "--ledger", "missing.db"], ["no ledger", "missing.db"]),
    ("ledger-default-missing", ["--project", "demo"], ["no ledger", "ledger.db"]),
    ("ledger-folder", ["--project", "demo", "--ledger", "adir"], ["'adir'", "folder"]),
    ("ledger-not-db", ["--project", "demo", "--ledger", "notdb.db"], ["notdb.db", "not a wattwise ledger"]),
    ("ledger-zero-bytes", ["--project", "demo", "--ledger", "zero.db"], ["zero.db", "empty"]),
    ("ledger-empty-path", ["--project", "demo", "--ledger", ""], ["--ledger", "empty"]),
    # the selection: empty or unknown project / tag, unknown run id
    ("project-empty", ["--project", "", *L], ["--project", "empty"]),
    ("project-blank", ["--project", "   ", *L], ["--project", "empty"]),
    ("project-unknown", ["--project", "nope", *L], ["'nope'", "projects: demo, other"]),
    ("tag-unknown", ["--tag", "nope", *L], ["'nope'", "tags: baseline, sweep, variant"]),
    ("tag-empty", ["--tag", "", *L], ["--tag", "empty"]),
    ("project-and-tag", ["--project", "other", "--tag", "sweep", *L], ["project 'other' and tag 'sweep'"]),
    ("run-unknown", ["zzzz", *L], ["'zzzz'"]),
]


def _inputs(tmp_path: Path, argv: list[str]) -> None:
    for name, make in FILES.items():
        if name in argv or any(a.startswith(name + "/") for a in argv):
            make(tmp_path / name)


@pytest.mark.parametrize("argv, mentions", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_report(tmp_path, argv, mentions):
    _inputs(tmp_path, argv)
    assert_clean_failure(["report", *argv], tmp_path, mentions=mentions)


def test_the_table_is_big_enough():
    assert len(CASES) >= 20 and len({c[0] for c in CASES}) == len(CASES)


def test_a_failed_write_leaves_nothing(tmp_path):
    """The output is written whole or not at all: a failure while writing removes the temporary file and leaves
    the previous file as it was."""
    from wattwise.cli.report import _write
    target = tmp_path / "card.md"
    target.write_text("previous card\n")
    with pytest.raises((TypeError, RuntimeError)):
        _write(str(target), object())  # not text: the write fails half-way
    assert target.read_text() == "previous card\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.md"]
    _write(str(target), "new card\n")
    assert target.read_text() == "new card\n" and sorted(p.name for p in tmp_path.iterdir()) == ["card.md"]
