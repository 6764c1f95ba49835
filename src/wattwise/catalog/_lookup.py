"""Name lookup shared by every catalog table: case-, accent- and punctuation-insensitive, with aliases,
and a did-you-mean error for unknown names."""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from typing import Callable, Generic, Iterable, Iterator, TypeVar

from ..errors import UnknownNameError, WattwiseError, closest

T = TypeVar("T")


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def normalize(name: str) -> str:
    """'A100 80GB', 'a100-80gb' and 'A100_80GB' -> 'a10080gb'; accents dropped ('Québec' -> 'quebec')."""
    text = str(name)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ALNUM.sub("", text.lower())


def read_table(filename: str) -> list[dict[str, str]]:
    """Rows of one shipped CSV in wattwise/catalog/data."""
    # a plain path (not importlib.resources, which costs ~18 ms of imports): the package installs as files
    with open(os.path.join(os.path.dirname(__file__), "data", filename), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Index(Generic[T]):
    """Records addressable by their names.

    An exact (case-insensitive) name wins; then the normalised form. A normalised key claimed by two records
    with different exact spellings (GCP 'us-west1' vs AWS 'us-west-1') resolves only by its exact spelling.
    Names are registered in order: the first record to claim a name keeps it.
    """

    def __init__(self, kind: str, records: Iterable[T], names: Callable[[T], Iterable[str]]):
        self.kind = kind
        self.records: list[T] = list(records)
        self._exact: dict[str, T] = {}
        self._spelling: dict[str, str] = {}
        self._norm: dict[str, list[T]] = {}
        for rec in self.records:
            for name in names(rec):
                if not name:
                    continue
                self._exact.setdefault(name.lower(), rec)
                self._spelling.setdefault(name.lower(), name)
                bucket = self._norm.setdefault(normalize(name), [])
                if not any(r is rec for r in bucket):
                    bucket.append(rec)
        self._display = sorted(self._exact)

    def __iter__(self) -> Iterator[T]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def get(self, name: str) -> T:
        if not isinstance(name, str) or not name.strip():
            raise UnknownNameError(self.kind, str(name), [])
        key = name.strip()
        rec = self._exact.get(key.lower())
        if rec is not None:
            return rec
        bucket = self._norm.get(normalize(key), [])
        if len(bucket) == 1:
            return bucket[0]
        if len(bucket) > 1:
            spellings = sorted(self._spelling[n] for n in self._exact if normalize(n) == normalize(key))
            raise WattwiseError(f"ambiguous {self.kind} {name!r}: write it exactly as one of "
                                f"{', '.join(repr(s) for s in spellings)}")
        raise UnknownNameError(self.kind, name, [self._spelling[n] for n in closest(key.lower(), self._display)])

    def search(self, text: str | None, fields: Callable[[T], Iterable[str]]) -> list[T]:
        """Records whose fields contain `text` (normalised substring match); all when text is empty."""
        if not text:
            return list(self.records)
        needle = normalize(text)
        return [r for r in self.records if any(needle in normalize(f) for f in fields(r) if f)]
