"""The one exception family of wattwise.

Every message names the bad value and what would be accepted; the CLI prints the message in one red line and
exits with status 2, never a traceback.
"""

from __future__ import annotations

from typing import Iterable


class WattwiseError(ValueError):
    """Base class of every error wattwise raises on purpose."""


class InvalidValueError(WattwiseError):
    """A number or option outside what is accepted (negative, zero, NaN, inf, wrong kind)."""


class UnknownNameError(WattwiseError, KeyError):
    """A name (GPU, zone, provider...) that the catalog does not know."""

    def __init__(self, kind: str, name: str, suggestions: Iterable[str] = (), accepted: Iterable[str] = ()):
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        hint = f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?" if self.suggestions else ""
        accepted = list(accepted)
        where = (f"accepted: {', '.join(accepted)}" if accepted
                 else "see `wattwise catalog` for the full list")
        super().__init__(f"unknown {kind} {name!r}{hint} ({where})")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]


class MissingInputError(WattwiseError):
    """Not enough inputs to compute what was asked; the message says which input would complete it."""


class ContradictoryInputError(WattwiseError):
    """Inputs that disagree with each other (for example flops and params x tokens)."""


class MissingExtraError(WattwiseError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str):
        super().__init__(
            f"this feature needs the optional dependency {module!r}: pip install 'wattwise[{extra}]'"
        )


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to `name` (difflib ratio), best first."""
    import difflib  # only on the error path: keeps `import wattwise.errors` light
    return difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.4)
