"""Reading training runs for the scaling-law fits: a CSV of params N, tokens D (or compute C) and final loss.

    >>> runs = read_runs_csv("runs.csv")                  # columns N, D (or C), loss
    >>> fit_chinchilla(**runs)                            # keys: params, tokens, loss, flops

Two layouts are recognised without options:

- your own table: columns N, D (or C when there is no D) and loss;
- the runs.csv that `wattwise scaling sweep` writes (recognised by its columns key, budget_flops, params, tokens,
  loss, status): params, tokens and loss are read, and only the rows with status "ok" and a loss (failed or
  unfinished runs are skipped).

A column given by name (params_col=..., the CLI's --params-col ...) always wins over the layout's.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ..errors import InvalidValueError, MissingInputError, closest

DEFAULT_COLUMNS = {"params": "N", "tokens": "D", "loss": "loss", "flops": "C"}
# `wattwise scaling sweep` writes runs.csv with these columns (wattwise.scaling.sweep.runner.run_row); the
# signature below identifies it
SWEEP_COLUMNS = {"params": "params", "tokens": "tokens", "loss": "loss", "flops": "flops_6nd"}
SWEEP_SIGNATURE = ("key", "budget_flops", "params", "tokens", "loss", "status")
# names a column of each kind often has elsewhere: only for the hint of a missing-column message
_LIKELY = {"params": ("params", "parameters", "n_params", "num_params", "n"),
           "tokens": ("tokens", "n_tokens", "train_tokens", "num_tokens", "d"),
           "flops": ("flops", "compute", "c", "flops_6nd", "train_flops"),
           "loss": ("loss", "final_loss", "eval_loss", "val_loss", "heldout_loss")}
FLAG = {"params": "--params-col", "tokens": "--tokens-col", "flops": "--flops-col", "loss": "--loss-col"}


def _read_table(path: Path) -> tuple[list[str], list[dict]]:
    """Header and rows of a CSV file; every way it can fail is a WattwiseError naming the file."""
    shown = str(path)
    if not os.path.lexists(path):
        raise MissingInputError(f"runs file {shown!r} does not exist; give a CSV file of runs (columns N, D or C, "
                                "loss; or a sweep's runs.csv)")
    if path.is_dir():
        hint = " (the sweep's runs are in its runs.csv)" if (path / "runs.csv").is_file() else ""
        raise InvalidValueError(f"runs file {shown!r} is a folder, not a CSV file{hint}; give a CSV file of runs")
    if not path.is_file():
        raise InvalidValueError(f"runs file {shown!r} is not a regular file; give a CSV file of runs")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InvalidValueError(f"runs file {shown!r} cannot be read ({e.strerror or e}); give a readable CSV "
                                "file") from None
    if not raw.strip():
        raise InvalidValueError(f"runs file {shown!r} is empty; give a CSV file with a header row (N, D or C, loss) "
                                "and one row per run")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InvalidValueError(f"runs file {shown!r} is binary, not a CSV text file (NUL byte at offset {nul}); "
                                "give a CSV file of runs")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (spreadsheet exports) is dropped
    except UnicodeDecodeError as e:
        raise InvalidValueError(f"runs file {shown!r} is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                                f"{e.start}); save it as UTF-8 CSV") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h for h in (reader.fieldnames or [])]
        rows = list(reader)
    except csv.Error as e:
        raise InvalidValueError(f"runs file {shown!r} is not valid CSV ({e}); give a comma-separated file") from None
    if not any(h.strip() for h in header):
        raise InvalidValueError(f"runs file {shown!r} has no header row; the first line must name the columns "
                                "(N, D or C, loss)")
    return header, rows


def is_sweep_table(header) -> bool:
    """Whether a header is that of the runs.csv `wattwise scaling sweep` writes."""
    names = {h.strip().lower() for h in header}
    return all(c in names for c in SWEEP_SIGNATURE)


def load_runs(path: str | os.PathLike, *, params_col: str | None = None, tokens_col: str | None = None,
              loss_col: str | None = None, flops_col: str | None = None) -> tuple[dict, dict]:
    """(runs, info): the runs as in `read_runs_csv`, and how they were read: {"layout": "columns" | "sweep",
    "columns": {"params": ..., "loss": ..., "tokens" or "flops": ...}, "rows": n, "skipped": [why, ...]}.

    A column left None takes the layout's name (see the module docstring)."""
    import numpy as np

    path = Path(path).expanduser()
    shown = str(path)
    header, rows = _read_table(path)
    sweep = is_sweep_table(header)
    names = SWEEP_COLUMNS if sweep else DEFAULT_COLUMNS
    params_col = names["params"] if params_col is None else params_col
    tokens_col = names["tokens"] if tokens_col is None else tokens_col
    loss_col = names["loss"] if loss_col is None else loss_col
    flops_col = names["flops"] if flops_col is None else flops_col
    lower = {h.strip().lower(): h for h in header}
    listed = ", ".join(header) or "none"

    def likely(kind: str, name: str) -> str:
        """'; pass --tokens-col tokens' when a column looks like the kind asked for."""
        for cand in _LIKELY[kind]:
            if cand in lower and lower[cand] != name:
                return f"; pass {FLAG[kind]} {lower[cand]} to use {lower[cand]!r}"
        hint = closest(name, header)
        return f"; did you mean {hint[0]!r}?" if hint else ""

    def col(kind: str, name: str, required: bool) -> str | None:
        if name in header:
            return name
        if name.strip().lower() in lower:
            return lower[name.strip().lower()]
        if required:
            raise MissingInputError(f"column {name!r} not in {shown!r} (columns: {listed})" + likely(kind, name))
        return None

    n_col, l_col = col("params", params_col, True), col("loss", loss_col, True)
    d_col = col("tokens", tokens_col, False)
    c_col = None if d_col else col("flops", flops_col, False)
    if d_col is None and c_col is None:
        hint = likely("tokens", tokens_col) or likely("flops", flops_col)
        raise MissingInputError(f"{shown!r} needs a tokens column {tokens_col!r} or a compute column "
                                f"{flops_col!r} (columns: {listed})" + hint)
    skipped: list[str] = []
    if sweep:  # failed or unfinished sweep runs have no loss: leave them out, say so
        s_col = lower["status"]
        kept = []
        for i, row in enumerate(rows, start=2):
            status = (row.get(s_col) or "").strip()
            if status != "ok" or not (row.get(l_col) or "").strip():
                skipped.append(f"line {i} ({row.get(lower['key']) or '?'}): status {status or 'missing'}, "
                               f"loss {row.get(l_col) or 'missing'}")
                continue
            kept.append((i, row))
    else:
        kept = list(enumerate(rows, start=2))  # line 1 is the header
    if not kept:
        raise InvalidValueError(f"{shown!r} has a header ({listed}) but no runs"
                                + (" with status ok" if sweep and rows else "") + "; give one row per training run")

    def values(c: str):
        out = []
        for i, row in kept:
            v = row.get(c)
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                got = "nothing (the row is short)" if v is None else repr(v)
                raise InvalidValueError(f"{shown!r} line {i} (data row {i - 1}): column {c!r} must be a number, "
                                        f"got {got}") from None
        return np.array(out, dtype=float)

    runs = {"params": values(n_col), "tokens": values(d_col) if d_col else None, "loss": values(l_col),
            "flops": values(c_col) if c_col else None}
    cols = {"params": n_col, "loss": l_col, **({"tokens": d_col} if d_col else {"flops": c_col})}
    return runs, {"layout": "sweep" if sweep else "columns", "columns": cols, "rows": len(kept),
                  "skipped": skipped}


def read_runs_csv(path: str | os.PathLike, *, params_col: str | None = None, tokens_col: str | None = None,
                  loss_col: str | None = None, flops_col: str | None = None) -> dict:
    """The runs of a CSV file as float arrays {"params", "tokens", "loss", "flops"} ("tokens" or "flops" is None:
    compute is read only when there is no tokens column), ready for `fit_chinchilla(**runs)`.

    Columns default to N, D (or C) and loss, or to params, tokens and loss in a sweep's runs.csv (module
    docstring). Column names match exactly, else ignoring case and surrounding spaces. Raises MissingInputError for
    a missing file or column (naming it and listing the columns there are) and InvalidValueError for a folder, an
    empty, binary or non-UTF-8 file, or a value that is not a number (naming its line, data row and column)."""
    return load_runs(path, params_col=params_col, tokens_col=tokens_col, loss_col=loss_col,
                     flops_col=flops_col)[0]
