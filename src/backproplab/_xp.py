"""Array-namespace helpers: one place that decides which array library a module computes with.

NumPy arrays use NumPy itself (NumPy 2 follows the array-API standard, and using it directly keeps the hot
path free of wrapper calls). Anything else (e.g. torch tensors) goes through `array_api_compat`, an optional
dependency, so that the same module code runs on another backend without rewriting it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def namespace(*arrays: Any) -> Any:
    """Return the array namespace (``xp``) that ``arrays`` belong to."""
    if all(isinstance(a, np.ndarray | np.generic) for a in arrays):
        return np
    try:
        from array_api_compat import array_namespace
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        kinds = sorted({type(a).__name__ for a in arrays})
        raise TypeError(
            f"backproplab computes on NumPy arrays by default; got {kinds}. Other array types need the "
            "optional 'array-api-compat' package: pip install 'backproplab[torch]'"
        ) from exc
    return array_namespace(*arrays)


def is_numpy(x: Any) -> bool:
    return isinstance(x, np.ndarray)


def to_float(x: Any) -> float:
    """A Python float from a 0-d array of any backend."""
    return float(x)
