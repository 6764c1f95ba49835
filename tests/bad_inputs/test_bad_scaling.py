"""Bad invocations of `wattwise scaling plan | check | fit | sweep`: each exits 2 with one line on stderr naming the
bad value (and what is accepted), no traceback, nothing created or changed under the working directory, and
before any long work (no fit, no training run: every case here ends in well under a second)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from .harness import assert_clean_failure

# six valid runs (N, D, loss) of Chinchilla's law: a fit would start on them, so a case that fails with them
# fails in the checks made before the fit
GOOD = [(n, 20 * n * k, 1.8 + 400 / n ** 0.34 + 400 / (20 * n * k) ** 0.28)
        for n, k in ((1e6, 1), (2e6, 2), (4e6, 0.5), (8e6, 1), (1.6e7, 4), (3.2e7, 1))]


def _csv(path: Path, header, rows) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _files(root: Path) -> None:
    """Every input file the cases name, written before the harness snapshots the tree."""
    _csv(root / "good.csv", ["N", "D", "loss"], GOOD)
    _csv(root / "few.csv", ["N", "D", "loss"], GOOD[:2])
    _csv(root / "cols.csv", ["a", "b"], [[1, 2]])
    _csv(root / "notokens.csv", ["N", "tokens", "loss"], GOOD)
    _csv(root / "nonnum.csv", ["N", "D", "loss"], [GOOD[0], (2e6, "lots", 3.0)])
    _csv(root / "negloss.csv", ["N", "D", "loss"], [*GOOD[:5], (1e6, 2e7, -1.0)])
    _csv(root / "header.csv", ["N", "D", "loss"], [])
    (root / "empty.csv").write_bytes(b"")
    (root / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "latin1.csv").write_bytes("N,D,loss\n1e6,2e7,3.1 \u00e9\n".encode("latin-1"))
    (root / "afile").write_text("a plain file, in the way of a folder\n")
    (root / "notaledger.db").write_text("not an SQLite file\n")
    (root / "adir").mkdir()
    (root / "out_with_folder" / "runs.csv").mkdir(parents=True)


def _sweep_ledger(root: Path) -> None:
    """A ledger with one finished run of the quick sweep `t1`, tracked under region FR (no training)."""
    from wattwise.ledger import Ledger
    from wattwise.scaling.sweep.data import load_corpus
    from wattwise.scaling.sweep.planner import plan_grid
    from wattwise.scaling.sweep.runner import quick_config
    from wattwise.scaling.sweep.trainer import RESULT_KEY, SPEC_KEY
    from wattwise.tracker import Tracker

    cfg = quick_config(sweep_id="t1")
    corpus = load_corpus(cfg.data, level=cfg.level, heldout_fraction=cfg.heldout_fraction, seed=cfg.seed)
    spec = plan_grid(cfg, corpus.vocab_size, "t1")[0]
    led = Ledger(root / "sweep.db")
    try:
        with Tracker("t1 run", ledger=led, run_id=spec.run_id, region="FR",
                     extra={SPEC_KEY: spec.to_dict(), RESULT_KEY: {"loss": 3.0}}):
            pass
    finally:
        led.close()
    for extra in ("sweep.db-wal", "sweep.db-shm"):
        assert not (root / extra).exists()


def _no_matplotlib(root: Path) -> dict:
    """PYTHONPATH with a `matplotlib` that fails to import, outside the test's tree."""
    block = root.parent / f"{root.name}-block"
    (block / "matplotlib").mkdir(parents=True, exist_ok=True)
    (block / "matplotlib" / "__init__.py").write_text("raise ImportError('blocked for this test')\n")
    src = Path(__file__).resolve().parents[2] / "src"
    return {"PYTHONPATH": f"{block}{os.pathsep}{src}", "PYTHONDONTWRITEBYTECODE": "1"}


def _read_only(root: Path) -> None:
    """A 0o555 folder `ro`; skips when this user writes into it anyway (root does)."""
    ro = root / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    probe = ro / ".probe"
    try:
        probe.write_text("")
    except OSError:
        return  # read-only for this user: the case tests what it says
    probe.unlink()
    ro.chmod(0o755)
    pytest.skip("this user writes into a 0o555 folder anyway (root?); the afile/... cases cover unwritable paths")


FIT, PLAN, CHECK, SWEEP = ["scaling", "fit"], ["scaling", "plan"], ["scaling", "check"], ["scaling", "sweep"]
Q = [*SWEEP, "--quick"]
B = [*SWEEP, "--budgets", "1e11,3e11"]

CASES = [
    # scaling fit: the input file
    ("fit-missing-file", [*FIT, "missing.csv"], ["missing.csv", "does not exist"]),
    ("fit-folder", [*FIT, "adir"], ["adir", "folder"]),
    ("fit-empty-file", [*FIT, "empty.csv"], ["empty.csv", "empty"]),
    ("fit-header-only", [*FIT, "header.csv"], ["header.csv", "no runs"]),
    ("fit-binary-file", [*FIT, "binary.csv"], ["binary.csv", "binary"]),
    ("fit-not-utf8", [*FIT, "latin1.csv"], ["latin1.csv", "utf-8"]),
    ("fit-unknown-columns", [*FIT, "cols.csv"], ["'N'", "columns: a, b"]),
    ("fit-unknown-loss-col", [*FIT, "cols.csv", "--params-col", "a", "--loss-col", "lss"], ["'lss'", "a, b"]),
    ("fit-no-tokens-column", [*FIT, "notokens.csv"], ["'D'", "'C'", "--tokens-col tokens"]),
    ("fit-not-a-number", [*FIT, "nonnum.csv"], ["line 3", "'lots'"]),
    ("fit-negative-loss", [*FIT, "negloss.csv"], ["loss", "> 0"]),
    ("fit-too-few-runs", [*FIT, "few.csv"], ["at least 5 runs", "got 2"]),
    # scaling fit: options
    ("fit-unknown-loss", [*FIT, "good.csv", "--loss", "l2"], ["'l2'", "huber, ls, lad"]),
    ("fit-bootstrap-negative", [*FIT, "good.csv", "--bootstrap", "-1"], ["--bootstrap", "0"]),
    ("fit-ci-above-1", [*FIT, "good.csv", "--ci", "1.5"], ["--ci", "between 0 and 1"]),
    ("fit-ci-nan", [*FIT, "good.csv", "--ci", "nan"], ["--ci", "nan"]),
    ("fit-budget-negative", [*FIT, "good.csv", "--budget", "-1e20"], ["--budget", "> 0"]),
    ("fit-budget-inf", [*FIT, "good.csv", "--budget", "inf"], ["--budget", "finite"]),
    ("fit-budget-word", [*FIT, "good.csv", "--budget", "lots"], ["--budget", "'lots'"]),
    ("fit-seed-negative", [*FIT, "good.csv", "--seed", "-1"], ["--seed"]),
    # scaling fit --plot: checked before the fit
    ("fit-plot-missing-folder", [*FIT, "good.csv", "--plot", "nodir/fit.png"], ["--plot", "nodir", "does not exist"]),
    ("fit-plot-under-a-file", [*FIT, "good.csv", "--plot", "afile/fit.png"], ["--plot", "afile", "is a file"]),
    ("fit-plot-is-a-folder", [*FIT, "good.csv", "--plot", "adir"], ["--plot", "adir", ".png"]),
    ("fit-plot-bad-suffix", [*FIT, "good.csv", "--plot", "fit.txt"], ["--plot", ".txt", ".png", ".svg"]),
    ("fit-plot-read-only-folder", [*FIT, "good.csv", "--plot", "ro/fit.png"], ["--plot", "ro", "not writable"]),
    ("fit-plot-no-matplotlib", [*FIT, "good.csv", "--plot", "fit.png"], ["matplotlib", "wattwise[plot]"]),
    # scaling plan
    ("plan-no-budget", [*PLAN], ["--budget", "required"]),
    ("plan-budget-zero", [*PLAN, "--budget", "0"], ["--budget", "> 0"]),
    ("plan-budget-negative", [*PLAN, "--budget", "-1e24"], ["--budget", "> 0"]),
    ("plan-budget-nan", [*PLAN, "--budget", "nan"], ["--budget", "finite"]),
    ("plan-budget-inf", [*PLAN, "--budget", "inf"], ["--budget", "finite"]),
    ("plan-unknown-law", [*PLAN, "--budget", "1e24", "--law", "chinchilla"], ["'chinchilla'", "besiroglu2024",
                                                                              "tokens20"]),
    ("plan-inference-negative", [*PLAN, "--budget", "1e24", "--inference-tokens", "-1"], ["--inference-tokens"]),
    ("plan-region-without-gpu", [*PLAN, "--budget", "1e24", "--region", "FR"], ["--region", "--gpu"]),
    ("plan-gpus-zero", [*PLAN, "--budget", "1e24", "--gpus", "0"], ["--gpus", "1"]),
    ("plan-mfu-above-1", [*PLAN, "--budget", "1e24", "--gpu", "H100-SXM", "--mfu", "1.5"], ["--mfu", "1"]),
    ("plan-mfu-zero", [*PLAN, "--budget", "1e24", "--mfu", "0"], ["--mfu", "> 0"]),
    # scaling check
    ("check-params-without-tokens", [*CHECK, "--params", "7B"], ["--tokens", "--params", "required"]),
    ("check-tokens-without-params", [*CHECK, "--tokens", "1T"], ["--params", "required"]),
    ("check-nothing", [*CHECK], ["--params", "--tokens"]),
    ("check-params-zero", [*CHECK, "--params", "0", "--tokens", "1T"], ["--params", "> 0"]),
    ("check-tokens-negative", [*CHECK, "--params", "7B", "--tokens", "-1T"], ["--tokens", "> 0"]),
    ("check-law-without-loss", [*CHECK, "--params", "7B", "--tokens", "1T", "--law", "tokens20"],
     ["tokens20", "besiroglu2024"]),
    ("check-unknown-law", [*CHECK, "--params", "7B", "--tokens", "1T", "--law", "nope"], ["'nope'", "hoffmann2022"]),
    # scaling sweep: numbers and names
    ("sweep-no-budgets", [*SWEEP], ["--budgets", "--quick"]),
    ("sweep-budget-zero", [*SWEEP, "--budgets", "1e11,0"], ["--budgets", "> 0"]),
    ("sweep-budget-negative", [*SWEEP, "--budgets", "-3e11"], ["--budgets", "> 0"]),
    ("sweep-budget-nan", [*SWEEP, "--budgets", "1e11,nan"], ["--budgets", "finite"]),
    ("sweep-budget-word", [*SWEEP, "--budgets", "1e11,lots"], ["--budgets", "'lots'"]),
    ("sweep-sizes-zero", [*B, "--sizes-per-budget", "0"], ["--sizes-per-budget"]),
    ("sweep-spread-below-1", [*B, "--spread", "0.5"], ["--spread", ">= 1"]),
    ("sweep-spread-nan", [*B, "--spread", "nan"], ["--spread", "finite"]),
    ("sweep-center-zero", [*B, "--center-tokens-per-param", "0"], ["--center-tokens-per-param", "> 0"]),
    ("sweep-plan-budget-negative", [*B, "--plan-budget", "-1e15"], ["--plan-budget", "> 0"]),
    ("sweep-price-negative", [*B, "--usd-per-kwh", "-0.1"], ["--usd-per-kwh", ">= 0"]),
    ("sweep-bootstrap-negative", [*B, "--bootstrap", "-1"], ["--bootstrap"]),
    ("sweep-workers-zero", [*B, "--workers", "0"], ["--workers"]),
    ("sweep-workers-and-ray", [*B, "--workers", "2", "--ray"], ["--workers", "--ray"]),
    ("sweep-seed-negative", [*B, "--seed", "-1"], ["--seed"]),
    ("sweep-unknown-level", [*Q, "--level", "word"], ["'word'", "char, byte"]),
    ("sweep-unknown-region", [*Q, "--region", "Atlantis"], ["'Atlantis'"]),
    ("sweep-missing-data", [*Q, "--data", "nothere.txt"], ["--data", "nothere.txt"]),
    ("sweep-data-without-text", [*Q, "--data", "adir"], ["--data", "adir", "no UTF-8 text"]),
    # scaling sweep: where it writes, checked before the first run
    ("sweep-out-is-a-file", [*Q, "--out", "afile"], ["--out", "afile", "is a file"]),
    ("sweep-out-under-a-file", [*Q, "--out", "afile/out"], ["--out", "afile/out", "cannot be created"]),
    ("sweep-out-read-only", [*Q, "--out", "ro"], ["--out", "ro", "not writable"]),
    ("sweep-out-read-only-new", [*Q, "--out", "ro/new"], ["--out", "ro/new", "not writable"]),
    ("sweep-out-file-is-a-folder", [*Q, "--out", "out_with_folder"], ["--out", "runs.csv"]),
    ("sweep-ledger-under-a-file", [*Q, "--ledger", "afile/ledger.db"], ["--ledger", "afile"]),
    ("sweep-ledger-is-a-folder", [*Q, "--ledger", "adir"], ["--ledger", "adir", "folder"]),
    ("sweep-ledger-not-sqlite", [*Q, "--ledger", "notaledger.db"], ["notaledger.db", "not a wattwise ledger"]),
    ("sweep-resume-other-region", [*Q, "--sweep-id", "t1", "--ledger", "sweep.db", "--region", "DE"],
     ["--region DE", "started with region FR", "--sweep-id"]),
]


@pytest.mark.parametrize("argv, mentions", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_scaling_invocation(argv, mentions, tmp_path, request):
    case = request.node.callspec.id
    _files(tmp_path)
    env = None
    if "read-only" in case:
        _read_only(tmp_path)
    if case == "fit-plot-no-matplotlib":
        env = _no_matplotlib(tmp_path)
    if case == "sweep-resume-other-region":
        _sweep_ledger(tmp_path)
    try:
        assert_clean_failure(argv, tmp_path, mentions=mentions, env=env)
    finally:
        if (tmp_path / "ro").exists():
            (tmp_path / "ro").chmod(0o755)


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)
