"""The fast engine: batch-size-1 SGD for MLPs as one numba-compiled loop per epoch.

`unsupported(...)` says what a run needs that the kernel cannot do; `FastTrainer` trains epochs with it;
`numba_available()` is the import check `fit(engine="auto")` uses to fall back to NumPy.
"""

from __future__ import annotations

import importlib.util

from .epoch import FastTrainer  # imports numba only when a FastTrainer is created
from .plan import SUPPORTED_TEXT, Plan, unsupported


def numba_available() -> bool:
    """True when numba can be imported (the fast engine's only extra requirement)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):
        return False


__all__ = ["SUPPORTED_TEXT", "FastTrainer", "Plan", "numba_available", "unsupported"]
