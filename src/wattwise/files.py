"""Files a user names: read them or refuse clearly, and write outputs whole or not at all (one mechanism for
every command: the CLI, the report, the scaling fit and sweep, the demo).

Every function raises `InvalidValueError` naming the flag, the path and what would be accepted, before any long
work and without creating anything: a missing file, a folder where a file is expected, bytes that are not UTF-8
text, an output folder that does not exist, is a file or is not writable, a read-only file in the way, an output
format that is not offered. `atomic_write_*` writes a temporary file next to the target and renames it, so a
failure never leaves half a file.
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


def _nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists (as anything: a folder, or a file in the way)."""
    p = path
    while not os.path.lexists(p):
        if p.parent == p:
            break
        p = p.parent
    return p


def _writable_dir(d: Path) -> bool:
    return os.access(d, os.W_OK | os.X_OK)


def check_folder_creatable(flag: str, path: str | os.PathLike, what: str = "folder") -> Path:
    """`path` is a writable folder, or one that can be created (its closest existing ancestor is a writable
    folder). Creates nothing; returns the path (user-expanded)."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InvalidValueError(f"{flag} {str(path)!r} is a file, not a folder; give a folder (new or existing) for "
                                f"the {what}")
    base = _nearest_existing(p)
    if not base.is_dir():
        raise InvalidValueError(f"{flag} {str(path)!r} cannot be created: {str(base)!r} is a file, not a folder; "
                                f"give a folder path for the {what}")
    if not _writable_dir(base):
        where = "is not writable" if base == p else f"cannot be created: {str(base)!r} is not writable"
        raise InvalidValueError(f"{flag} {str(path)!r} {where}; give a folder you can write to for the {what}")
    return p


def check_files_writable(flag: str, folder: Path, names) -> None:
    """Files `names` inside an existing `folder` can be (over)written: none is a folder or a read-only file."""
    if not folder.is_dir():
        return
    for name in names:
        f = folder / name
        if f.is_dir():
            raise InvalidValueError(f"{flag} {str(folder)!r} holds a folder {name!r} where the file {name!r} is "
                                    "written; move it away or give another folder")
        if f.exists() and not os.access(f, os.W_OK):
            raise InvalidValueError(f"{flag} {str(folder)!r}: {name!r} there is read-only; make it writable or give "
                                    "another folder")


def check_file_writable(flag: str, path: str | os.PathLike, *, create_parents: bool = False,
                        suffixes: tuple[str, ...] | None = None, what: str = "file",
                        example: str | None = None) -> Path:
    """`path` can be written as a file: not a folder, an existing file writable, its folder existing and writable
    (or, with `create_parents`, creatable); with `suffixes`, its suffix one of them. Creates nothing."""
    p = Path(path).expanduser()
    if suffixes is not None and p.suffix.lower().lstrip(".") not in suffixes:
        got = f"suffix {p.suffix!r}" if p.suffix else "no suffix"
        raise InvalidValueError(f"{flag} {str(path)!r} has {got}; the {what} is written by suffix: "
                                f"{', '.join('.' + s for s in suffixes)}")
    if p.is_dir():
        raise InvalidValueError(f"{flag} {str(path)!r} is a folder; give a file path for the {what}, e.g. "
                                f"{str(p / (example or 'out.' + (suffixes[0] if suffixes else 'txt')))!r}")
    if p.exists():
        if not os.access(p, os.W_OK):
            raise InvalidValueError(f"{flag} {str(path)!r} is read-only; give a file you can write for the {what}")
        return p
    parent = p.parent
    if parent.is_dir():
        if not _writable_dir(parent):
            raise InvalidValueError(f"{flag} {str(path)!r}: the folder {str(parent)!r} is not writable; give a path "
                                    f"you can write to for the {what}")
        return p
    if os.path.lexists(parent) or not create_parents:
        why = "is a file, not a folder" if os.path.lexists(parent) else "does not exist"
        raise InvalidValueError(f"{flag} {str(path)!r}: the folder {str(parent)!r} {why}; give a path in an existing "
                                f"folder for the {what}")
    check_folder_creatable(flag, parent, what=f"folder of the {what}")
    return p


def check_output(path: str | os.PathLike, flag: str = "output", suffixes: Iterable[str] | None = None) -> Path:
    """`path` as a Path if a file can be written there (`check_file_writable`; `suffixes` with their dots)."""
    if not str(path).strip():
        raise InvalidValueError(f"{flag} is empty; give a file path")
    sfx = tuple(s.lower().lstrip(".") for s in suffixes) if suffixes is not None else None
    return check_file_writable(flag, path, suffixes=sfx)


def check_output_dir(path: str | os.PathLike, flag: str = "output folder") -> Path:
    """`path` as a Path if it is, or can be created as, a writable folder (`check_folder_creatable`)."""
    return check_folder_creatable(flag, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: str | os.PathLike, flag: str, mode: str, data, **open_kw) -> Path:
    """Write whole or not at all: a temporary file in the same folder, then a rename. The file keeps the mode of
    the one it replaces, else the usual 0666 & ~umask (not mkstemp's 0600); an OSError is an InvalidValueError
    naming `flag` and the path; anything else (data of the wrong type) propagates, leaving nothing behind."""
    p = Path(path).expanduser()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent if str(p.parent) else ".")
    except OSError as e:
        raise InvalidValueError(f"cannot write {flag} {str(path)!r}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, mode, **open_kw) as f:
            f.write(data)
        try:
            os.chmod(tmp, p.stat().st_mode & 0o777 if p.exists() else 0o666 & ~_umask())
        except OSError:
            pass
        os.replace(tmp, p)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise InvalidValueError(f"cannot write {flag} {str(path)!r}: {e.strerror or e}") from None
        raise
    return p


def atomic_write_bytes(path: str | os.PathLike, data: bytes, flag: str = "output") -> Path:
    return _atomic(path, flag, "wb", data)


def atomic_write_text(path: str | os.PathLike, text: str, flag: str = "output") -> Path:
    """UTF-8, newlines written as given."""
    return _atomic(path, flag, "w", text, encoding="utf-8", newline="\n")
