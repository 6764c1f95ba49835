"""Input validation shared by the estimator, the catalog and the CLI."""

from __future__ import annotations

import math

from .errors import InvalidValueError


def check_number(name: str, value, *, positive: bool = True, allow_zero: bool = False,
                 upper: float | None = None) -> float:
    """Return `value` as a float, or raise InvalidValueError naming `name` and what is accepted.

    A Python argument name is quoted in backticks (`power_w`) so that the CLI can replace it by its flag."""
    name = name if name.startswith("-") or name.startswith("`") else f"`{name}`"
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(x) or math.isinf(x):
        raise InvalidValueError(f"{name} must be a finite number, got {value!r}")
    if positive:
        if allow_zero and x < 0:
            raise InvalidValueError(f"{name} must be >= 0, got {value!r}")
        if not allow_zero and x <= 0:
            raise InvalidValueError(f"{name} must be > 0, got {value!r}")
    if upper is not None and x > upper:
        raise InvalidValueError(f"{name} must be <= {upper:g}, got {value!r}")
    return x


def check_fraction(name: str, value) -> float:
    """A fraction in (0, 1], such as MFU or power as a fraction of TDP."""
    return check_number(name, value, upper=1.0)
