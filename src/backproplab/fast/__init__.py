"""The fast engine: SGD for MLPs as one numba-compiled loop per epoch, at batch size 1 (`kernels`) or in
mini-batches (`batch_kernel`).

`unsupported(...)` says what a run needs that the kernels cannot do; `FastTrainer` trains epochs with them;
`numba_available()` is the import check `fit(engine="auto")` uses to fall back to NumPy; `evaluate_all`
gives loss, accuracy and predictions of a whole set in one BLAS-backed pass.
"""

from __future__ import annotations

import functools

from .epoch import FastTrainer  # imports numba only when a FastTrainer is created
from .evaluate import evaluate_all
from .plan import SUPPORTED_TEXT, Plan, unsupported


@functools.cache
def numba_available() -> bool:
    """True when numba imports (the fast engine's only extra requirement); checked once per process."""
    try:
        import numba  # noqa: F401
    except Exception:  # not installed, or installed but broken (e.g. built for another NumPy)
        return False
    return True


__all__ = ["SUPPORTED_TEXT", "FastTrainer", "Plan", "evaluate_all", "numba_available", "unsupported"]
