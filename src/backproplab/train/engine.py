"""Which engine trains a `fit` run: the compiled batch-size-1 kernel (`backproplab.fast`) or NumPy."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from .. import fast
from ..errors import EngineError
from ..nn.losses import Loss
from ..nn.module import Module
from ..nn.regularization import Regularizer
from ..optim.optimizer import Optimizer

ENGINES = ("auto", "fast", "numpy")
_warned_no_numba = False


def choose_engine(requested: str, model: Module, loss: Loss, optimizer: Optimizer,
                  regularizers: Sequence[Regularizer], batch_size: int, X: Any, y: Any) -> str:
    """``"fast"`` or ``"numpy"``.

    ``auto`` takes the fast engine whenever it supports the run (model, loss, optimizer, penalties, batch
    size 1, dtypes) and numba imports, else NumPy (warning once per process when only numba is missing).
    ``fast`` raises `EngineError` naming every unsupported thing, or ImportError without numba.
    """
    if requested not in ENGINES:
        raise ValueError(f"engine: expected 'auto', 'fast' or 'numpy'; got {requested!r}")
    if requested == "numpy":
        return "numpy"
    reasons = fast.unsupported(model, loss, optimizer, regularizers, batch_size, X, y)
    if requested == "fast":
        if reasons:
            raise EngineError("engine='fast' cannot train this run: " + "; ".join(reasons)
                              + f". The fast engine supports {fast.SUPPORTED_TEXT}. "
                              "Use engine='auto' (falls back to NumPy) or engine='numpy'.")
        if not fast.numba_available():
            raise ImportError("engine='fast' needs the 'numba' package, which cannot be imported: "
                              "pip install 'numba>=0.60' (or use engine='numpy')")
        return "fast"
    if reasons:
        return "numpy"
    if not fast.numba_available():
        global _warned_no_numba
        if not _warned_no_numba:
            _warned_no_numba = True
            warnings.warn("numba cannot be imported, so fit(engine='auto') trains with the slower NumPy engine; "
                          "pip install 'numba>=0.60' for the fast batch-size-1 engine", stacklevel=3)
        return "numpy"
    return "fast"
