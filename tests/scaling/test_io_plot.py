"""wattwise.scaling.io.read_runs_csv and wattwise.scaling.plot.plot_fit (library code the CLI calls)."""

import csv

import numpy as np
import pytest

from wattwise.errors import InvalidValueError, MissingInputError
from wattwise.scaling import fit_chinchilla, get_law, hoffmann_grid, isoflop_runs
from wattwise.scaling.io import read_runs_csv


def _write(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_reads_params_tokens_loss_as_arrays(tmp_path):
    p = _write(tmp_path / "runs.csv", ["N", "D", "loss"], [[1e8, 2e9, 3.1], [2e8, 4e9, 2.9]])
    runs = read_runs_csv(p)
    assert set(runs) == {"params", "tokens", "loss", "flops"} and runs["flops"] is None
    assert isinstance(runs["params"], np.ndarray)
    assert runs["params"].tolist() == [1e8, 2e8] and runs["tokens"].tolist() == [2e9, 4e9]
    assert runs["loss"].tolist() == [3.1, 2.9]


def test_compute_column_case_insensitive_names_and_custom_columns(tmp_path):
    p = _write(tmp_path / "runs.csv", [" Params ", "c", "Final_Loss"], [[1e8, 1.2e18, 3.0]])
    runs = read_runs_csv(p, params_col="params", loss_col="final_loss")
    assert runs["tokens"] is None and runs["flops"].tolist() == [1.2e18] and runs["params"].tolist() == [1e8]


def test_missing_column_names_it_and_lists_the_columns(tmp_path):
    p = _write(tmp_path / "runs.csv", ["params", "D", "final"], [[1, 2, 3]])
    with pytest.raises(MissingInputError) as e:
        read_runs_csv(p)
    msg = str(e.value)
    assert "'N'" in msg and "columns: params, D, final" in msg
    with pytest.raises(MissingInputError) as e:
        read_runs_csv(p, params_col="params", loss_col="lss")
    assert "'lss'" in str(e.value) and "params, D, final" in str(e.value)
    p = _write(tmp_path / "notokens.csv", ["N", "tokens", "loss"], [[1, 2, 3]])
    with pytest.raises(MissingInputError) as e:
        read_runs_csv(p)
    assert "'D'" in str(e.value) and "'C'" in str(e.value) and "N, tokens, loss" in str(e.value)


def test_non_numeric_value_names_line_row_and_column(tmp_path):
    p = _write(tmp_path / "runs.csv", ["N", "D", "loss"], [[1e8, 2e9, 3.0], [2e8, "lots", 2.9]])
    with pytest.raises(InvalidValueError) as e:
        read_runs_csv(p)
    msg = str(e.value)
    assert "line 3" in msg and "data row 2" in msg and "'D'" in msg and "'lots'" in msg


def test_missing_file(tmp_path):
    with pytest.raises(MissingInputError, match="does not exist"):
        read_runs_csv(tmp_path / "nope.csv")


def test_read_runs_feed_the_fit(tmp_path):
    n, d, l_ = isoflop_runs(get_law(), noise=0.0, sizes_per_budget=6)
    p = _write(tmp_path / "runs.csv", ["N", "D", "loss"], zip(n, d, l_))
    runs = read_runs_csv(p)
    assert np.array_equal(runs["params"], n) and np.array_equal(runs["loss"], l_)   # full precision round trip
    grid = hoffmann_grid()[::25]
    from_csv, direct = fit_chinchilla(**runs, init_grid=grid), fit_chinchilla(n, d, l_, init_grid=grid)
    assert from_csv.theta_.tolist() == direct.theta_.tolist()


def test_plot_fit_writes_a_non_empty_png(tmp_path):
    pytest.importorskip("matplotlib")
    from wattwise.scaling.plot import plot_fit

    n, d, l_ = isoflop_runs(get_law(), noise=0.005, seed=2, sizes_per_budget=5)
    est = fit_chinchilla(n, d, l_, init_grid=hoffmann_grid()[::25])
    out = plot_fit(est, n, d, l_, path=tmp_path / "fit.png")
    assert out == tmp_path / "fit.png"
    data = out.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"
    out = plot_fit(est, n, None, l_, flops=6 * n * d, path=tmp_path / "fit_c.png")   # compute in place of tokens
    assert out.stat().st_size > 1000
