"""What the scaling-law estimators share: their warning class, scikit-learn's parameter contract
(`get_params` / `set_params`, read off `__init__`), and the validation of a set of training runs.

scikit-learn is not a dependency: `Params` implements the part of `sklearn.base.BaseEstimator` that
`sklearn.base.clone` and grid searches rely on. `__init__` of an estimator only stores its arguments, unchanged,
under the same names; `fit()` validates them.
"""

from __future__ import annotations

import inspect

from ..constants import TRAIN_FLOPS_PER_PARAM_TOKEN
from ..errors import ContradictoryInputError, InvalidValueError, MissingInputError


class ScalingFitWarning(UserWarning):
    """The data cannot pin the law down, or a prediction leaves the fitted range."""


class Params:
    """scikit-learn's estimator parameter contract: the parameters are the arguments of `__init__`."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments, by name (`deep` is accepted for scikit-learn; no parameter is an estimator)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "Params":
        """Set constructor arguments by name (validated at the next `fit()`); returns self."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise InvalidValueError(f"{type(self).__name__} has no parameter {name!r}; "
                                        f"parameters: {', '.join(valid)}")
            setattr(self, name, value)
        return self


def as_runs(params, tokens, loss, flops):
    """(N, D, L) float arrays of validated runs; D = C / (6 N) when compute is given in place of tokens."""
    import numpy as np

    if params is None or loss is None:
        raise MissingInputError("fitting needs params (N) and loss for every run, plus tokens (D) or flops (C)")
    n = np.asarray(params, dtype=float).ravel()
    l_ = np.asarray(loss, dtype=float).ravel()
    if tokens is None and flops is None:
        raise MissingInputError("give tokens (D) or training flops (C = 6 N D) for every run")
    if tokens is not None and flops is not None:
        raise ContradictoryInputError("give tokens (D) or flops (C), not both")
    if tokens is None:
        d = np.asarray(flops, dtype=float).ravel() / (TRAIN_FLOPS_PER_PARAM_TOKEN * n)
    else:
        d = np.asarray(tokens, dtype=float).ravel()
    if not (n.size == d.size == l_.size):
        raise InvalidValueError(f"params, tokens/flops and loss must have the same length, got "
                                f"{n.size}, {d.size}, {l_.size}")
    for name, v in (("params", n), ("tokens", d), ("loss", l_)):
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            raise InvalidValueError(f"{name} must be finite and > 0; row {int(np.argmax(bad))} has {v[bad][0]!r}")
    if n.size < 5:
        raise InvalidValueError(f"need at least 5 runs to fit 5 parameters, got {n.size}")
    return n, d, l_
