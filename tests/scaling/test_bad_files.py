"""read_runs_csv on files that are not what it expects, and the --plot path check (library level)."""

import pytest

from wattwise.errors import InvalidValueError, MissingExtraError, MissingInputError, WattwiseError
from wattwise.scaling.io import load_runs, read_runs_csv


@pytest.mark.parametrize("content, error, words", [
    (b"", InvalidValueError, "is empty"),
    (b"\n\n  \n", InvalidValueError, "is empty"),
    (b"N,D,loss\n", InvalidValueError, "no runs"),
    (b"\x00\x01\x02", InvalidValueError, "binary"),
    ("N,D,loss\n1,2,3\u00e9\n".encode("latin-1"), InvalidValueError, "not UTF-8"),
    (b"N,D,loss\n1,2\n", InvalidValueError, "the row is short"),
    (b"params,tokens,loss\n1,2,3\n", MissingInputError, "--params-col params"),
])
def test_unusable_files_are_named_errors(tmp_path, content, error, words):
    p = tmp_path / "runs.csv"
    p.write_bytes(content)
    with pytest.raises(error, match=words) as e:
        read_runs_csv(p)
    assert "runs.csv" in str(e.value)


def test_folder_and_missing_file(tmp_path):
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "runs.csv").write_text("N,D,loss\n")
    with pytest.raises(InvalidValueError, match="folder.*runs.csv"):
        read_runs_csv(tmp_path / "sweep")
    with pytest.raises(MissingInputError, match="does not exist"):
        read_runs_csv(tmp_path / "nope.csv")


def test_a_byte_order_mark_is_accepted(tmp_path):
    p = tmp_path / "runs.csv"
    p.write_bytes("N,D,loss\n1e6,2e7,3.0\n".encode("utf-8-sig"))
    runs, info = load_runs(p)
    assert runs["params"].tolist() == [1e6] and info["layout"] == "columns"


def test_plot_path_is_checked_without_writing(tmp_path):
    pytest.importorskip("matplotlib")
    from wattwise.scaling.plot import check_plot_path

    assert check_plot_path(tmp_path / "fit.svg") == tmp_path / "fit.svg"
    (tmp_path / "f").write_text("")
    for bad in ("fit.doc", "nodir/fit.png", "f/fit.png"):
        with pytest.raises(InvalidValueError, match="--plot"):
            check_plot_path(tmp_path / bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_missing_matplotlib_is_a_missing_extra(monkeypatch, tmp_path):
    import sys

    from wattwise.scaling.plot import check_plot_path

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match="wattwise\\[plot\\]") as e:
        check_plot_path(tmp_path / "fit.png")
    assert isinstance(e.value, WattwiseError)


def test_read_only_folders_are_refused_even_when_root_could_write(tmp_path, monkeypatch):
    """The access check (os.access) made for a user without write access; root passes it, so it is faked here."""
    import os

    from wattwise import files as _paths   # the path checks live in wattwise.files

    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "runs.csv").write_text("")
    real = os.access
    monkeypatch.setattr(_paths.os, "access", lambda p, mode: False if "ro" in os.fspath(p).split(os.sep)
                        else real(p, mode))
    for check in (lambda: _paths.check_folder_creatable("--out", ro),
                  lambda: _paths.check_folder_creatable("--out", ro / "new"),
                  lambda: _paths.check_file_writable("--plot", ro / "fit.png"),
                  lambda: _paths.check_file_writable("--plot", ro / "runs.csv"),
                  lambda: _paths.check_files_writable("--out", ro, ["runs.csv"])):
        with pytest.raises(InvalidValueError, match="not writable|read-only"):
            check()
    assert _paths.check_folder_creatable("--out", tmp_path / "ok" / "new") == tmp_path / "ok" / "new"
