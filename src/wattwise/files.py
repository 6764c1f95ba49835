"""Files a user names: read them or refuse clearly, and write outputs whole or not at all.

Every function raises `InvalidValueError` naming the path and what would be accepted, before any long work:
a missing file, a folder where a file is expected, bytes that are not UTF-8 text, an output folder that does not
exist or is a file, an output format that is not offered. `atomic_write_*` writes a temporary file next to the
target and renames it, so a failure never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from .errors import InvalidValueError

# image formats every matplotlib backend writes without extra packages
PLOT_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".eps", ".ps")


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The UTF-8 text of `path` (a BOM is dropped)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InvalidValueError(f"{what} {str(p)!r} not found")
    if p.is_dir():
        raise InvalidValueError(f"{what} {str(p)!r} is a folder, not a file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InvalidValueError(f"cannot read {what} {str(p)!r}: {e.strerror or e}") from None
    if b"\x00" in data[:4096]:
        raise InvalidValueError(f"{what} {str(p)!r} is a binary file, not text (expected UTF-8 JSON or CSV)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidValueError(f"{what} {str(p)!r} is not UTF-8 text (byte {e.start}: {data[e.start:e.start + 1]!r}"
                                "); save it as UTF-8") from None


def check_output(path: str | os.PathLike, what: str = "output", suffixes: Iterable[str] | None = None) -> Path:
    """`path` as a Path if a file can be written there (its folder exists and is a writable folder; not itself a
    folder; its suffix among `suffixes` when given). Nothing is created."""
    p = Path(path).expanduser()
    if suffixes is not None:
        allowed = sorted({s.lower() for s in suffixes})
        if p.suffix.lower() not in allowed:
            raise InvalidValueError(f"{what} {str(p)!r}: the file name must end in one of {', '.join(allowed)}")
    if p.is_dir():
        raise InvalidValueError(f"{what} {str(p)!r} is a folder: give a file name inside it")
    parent = p.parent if str(p.parent) else Path(".")
    for anc in [parent, *parent.parents]:
        if anc.exists():
            if not anc.is_dir():
                raise InvalidValueError(f"{what} {str(p)!r}: {str(anc)!r} is a file, not a folder")
            break
    if not parent.is_dir():
        raise InvalidValueError(f"{what} {str(p)!r}: folder {str(parent)!r} does not exist (create it first)")
    if not os.access(parent, os.W_OK):
        raise InvalidValueError(f"{what} {str(p)!r}: folder {str(parent)!r} is not writable")
    return p


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """`path` as a Path if it is, or can be created as, a writable folder. Nothing is created."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InvalidValueError(f"{what} {str(p)!r} is a file, not a folder")
    anc = p
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        raise InvalidValueError(f"{what} {str(p)!r}: {str(anc)!r} is a file, not a folder")
    if not os.access(anc, os.W_OK):
        raise InvalidValueError(f"{what} {str(p)!r}: {str(anc)!r} is not writable")
    return p


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    p = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
