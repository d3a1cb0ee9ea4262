"""Whole-set evaluation in one pass: mean loss, accuracy and predicted labels, in large chunks through BLAS.

Batch size 1 is where per-step overhead dominates; evaluation has no such problem (one matrix product per
layer per chunk), so it is `backproplab.train.evaluate` itself (evaluation-mode ``forward``, no caches
stored, NumPy's BLAS), which is also why both engines report identical evaluation numbers.
"""

from __future__ import annotations

from typing import Any

from ..nn.losses import Loss
from ..nn.module import Module

EVAL_CHUNK = 4096


def evaluate_all(model: Module, loss: Loss, X: Any, y: Any, batch_size: int = EVAL_CHUNK) -> dict[str, Any]:
    """``{"loss": mean loss, "accuracy": fraction, "n": N, "predictions": (N,) int64}`` over all of ``(X, y)``:
    `backproplab.train.evaluate` with ``predictions=True``, in chunks of ``batch_size`` rows."""
    from ..train.metrics import evaluate  # train imports this package, so not at module level

    n = len(X)
    if n == 0 or len(y) != n:
        raise ValueError(f"evaluate_all needs equally long, non-empty X and y; got {n} and {len(y)} rows")
    return evaluate(model, loss, X, y, batch_size, predictions=True)
