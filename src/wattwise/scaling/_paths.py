"""Checks of the files and folders a scaling command will write, made before any long work (a fit, a sweep's
training runs) and without creating anything: a mistake in an output path then costs nothing.

Each check raises InvalidValueError naming the flag, the path and what would be accepted.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidValueError


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
