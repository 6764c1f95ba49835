"""Sweep data: a local text file or folder, or by default CPython's own `pydoc_data.topics` (English, no download).

Tokenised at character level (vocabulary = the characters of the whole text, sorted) or byte level (256 ids,
UTF-8). The text is cut into blocks of `block_tokens`; a seeded shuffle sends `heldout_fraction` of the blocks to the
held-out split, so every run of a sweep (and every rerun with the same seed) sees the same split.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InvalidValueError, MissingInputError

LEVELS = ("char", "byte")
DEFAULT_SOURCE = "pydoc_data.topics"
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".py", ".tex", ".html", ".json", ".csv", ".xml", ".c", ".h", "")
MAX_BYTES = 256 * 2**20  # read at most 256 MiB of text


@dataclass
class Corpus:
    """Token ids of the train and held-out splits, with what produced them."""

    train: "object"          # numpy int64 array
    heldout: "object"        # numpy int64 array
    vocab_size: int
    level: str
    source: str
    sha256: str              # of the raw text, so a sweep id changes when the data does
    seed: int
    heldout_fraction: float
    chars: str | None = field(default=None, repr=False)

    def describe(self) -> dict:
        return {"source": self.source, "level": self.level, "vocab_size": self.vocab_size,
                "train_tokens": int(self.train.size), "heldout_tokens": int(self.heldout.size),
                "sha256": self.sha256, "seed": self.seed, "heldout_fraction": self.heldout_fraction}


def default_text() -> str:
    """The pydoc topic help that ships with CPython (~465k characters of English prose and code)."""
    from pydoc_data import topics

    return "\n\n".join(topics.topics[k] for k in sorted(topics.topics))


def read_text(path: str | os.PathLike | None) -> tuple[str, str]:
    """(text, source label) of a file, of every text file under a folder (sorted by path), or the default."""
    if path is None or str(path) == DEFAULT_SOURCE:
        return default_text(), DEFAULT_SOURCE
    p = Path(path).expanduser()
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES
                       and not any(part.startswith(".") for part in f.relative_to(p).parts))
    else:
        raise MissingInputError(f"--data {str(path)!r} is neither a file nor a folder; give a text file, a folder of "
                                f"text files, or leave it out for the built-in {DEFAULT_SOURCE}")
    parts, total = [], 0
    for f in files:
        raw = f.read_bytes()[: MAX_BYTES - total]
        try:
            parts.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            continue  # not text
        total += len(raw)
        if total >= MAX_BYTES:
            break
    text = "\n\n".join(parts)
    if not text.strip():
        raise InvalidValueError(f"--data {str(path)!r} holds no UTF-8 text (files read: {len(files)})")
    return text, str(p)


def load_corpus(path: str | os.PathLike | None = None, *, level: str = "char", heldout_fraction: float = 0.1,
                seed: int = 0, block_tokens: int = 2048) -> Corpus:
    """Tokenise the text and split it into train / held-out blocks with a seeded shuffle."""
    import numpy as np

    if level not in LEVELS:
        raise InvalidValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if not 0.0 < heldout_fraction < 0.5:
        raise InvalidValueError(f"heldout_fraction must be in (0, 0.5), got {heldout_fraction!r}")
    text, source = read_text(path)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    chars = None
    if level == "char":
        chars = "".join(sorted(set(text)))
        lut = {c: i for i, c in enumerate(chars)}
        ids = np.fromiter((lut[c] for c in text), dtype=np.int64, count=len(text))
        vocab = len(chars)
    else:
        ids = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)
        vocab = 256
    n_blocks = ids.size // block_tokens
    if n_blocks < 4:
        raise InvalidValueError(f"the text has {ids.size} tokens, fewer than 4 blocks of {block_tokens}; give more "
                                "text")
    blocks = ids[: n_blocks * block_tokens].reshape(n_blocks, block_tokens)
    order = np.random.default_rng(seed).permutation(n_blocks)
    n_held = max(1, int(round(heldout_fraction * n_blocks)))
    held = np.sort(order[:n_held])
    train = np.sort(order[n_held:])
    return Corpus(train=blocks[train].ravel(), heldout=blocks[held].ravel(), vocab_size=vocab, level=level,
                  source=source, sha256=sha, seed=seed, heldout_fraction=heldout_fraction, chars=chars)


_CACHE: dict[tuple, Corpus] = {}


def cached_corpus(path, level: str, heldout_fraction: float, seed: int) -> Corpus:
    """load_corpus, memoised per process (every run of a worker reuses it)."""
    key = (None if path is None else str(path), level, heldout_fraction, seed)
    if key not in _CACHE:
        _CACHE[key] = load_corpus(path, level=level, heldout_fraction=heldout_fraction, seed=seed)
    return _CACHE[key]
