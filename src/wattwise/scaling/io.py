"""Reading training runs for the scaling-law fits: a CSV of params N, tokens D (or compute C) and final loss.

    >>> runs = read_runs_csv("runs.csv")                  # columns N, D (or C), loss
    >>> fit_chinchilla(**runs)                            # keys: params, tokens, loss, flops
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ..errors import InvalidValueError, MissingInputError, closest


def read_runs_csv(path: str | os.PathLike, *, params_col: str = "N", tokens_col: str = "D", loss_col: str = "loss",
                  flops_col: str = "C") -> dict:
    """The runs of a CSV file as float arrays {"params", "tokens", "loss", "flops"} ("tokens" or "flops" is None:
    compute is read only when there is no tokens column), ready for `fit_chinchilla(**runs)`.

    Column names match exactly, else ignoring case and surrounding spaces. Raises MissingInputError for a missing
    file or column (naming it and listing the columns there are) and InvalidValueError for a value that is not a
    number (naming its line, data row and column)."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"runs file {str(path)!r} does not exist")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        rows = list(reader)
    lower = {h.strip().lower(): h for h in header}

    def col(name: str, required: bool) -> str | None:
        if name in header:
            return name
        if name.strip().lower() in lower:
            return lower[name.strip().lower()]
        if required:
            hint = closest(name, header)
            raise MissingInputError(f"column {name!r} not in {str(path)!r} (columns: {', '.join(header) or 'none'})"
                                    + (f"; did you mean {hint[0]!r}?" if hint else ""))
        return None

    n_col, l_col = col(params_col, True), col(loss_col, True)
    d_col = col(tokens_col, False)
    c_col = None if d_col else col(flops_col, False)
    if d_col is None and c_col is None:
        raise MissingInputError(f"{str(path)!r} needs a tokens column {tokens_col!r} or a compute column "
                                f"{flops_col!r} (columns: {', '.join(header) or 'none'})")

    def values(c: str):
        out = []
        for i, row in enumerate(rows, start=2):  # line 1 is the header
            try:
                out.append(float(row[c]))
            except (TypeError, ValueError):
                raise InvalidValueError(f"{str(path)!r} line {i} (data row {i - 1}): column {c!r} must be a number, "
                                        f"got {row[c]!r}") from None
        return np.array(out, dtype=float)

    return {"params": values(n_col), "tokens": values(d_col) if d_col else None, "loss": values(l_col),
            "flops": values(c_col) if c_col else None}
