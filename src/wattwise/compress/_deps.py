"""Lazy imports of the optional heavy parts; a missing one raises MissingExtraError naming the extra."""

from __future__ import annotations

import importlib
import warnings

from ..errors import MissingExtraError


def require_torch():
    try:
        import torch
    except ImportError:
        raise MissingExtraError("torch", "compress") from None
    return torch


def require(module: str, extra: str = "compress"):
    """Import `module` or raise MissingExtraError(module, extra). torchao's import noise is silenced."""
    require_torch()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(module.split(".")[0], extra) from None


def has(module: str) -> bool:
    try:
        require(module)
        return True
    except MissingExtraError:
        return False
