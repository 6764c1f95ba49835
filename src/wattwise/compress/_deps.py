"""Lazy imports of the optional heavy parts; a missing one raises MissingExtraError naming the extra."""

from __future__ import annotations

import importlib
import logging
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
    # torchao logs a warning per optional kernel library it cannot load (CUDA-only .so files on a CPU build) and
    # torch's pytree logs a deprecation for its enums: noise for a user who asked for something else
    loggers = [logging.getLogger(n) for n in ("torchao", "torch.utils._pytree")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(module.split(".")[0], extra) from None
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def has(module: str) -> bool:
    try:
        require(module)
        return True
    except MissingExtraError:
        return False
