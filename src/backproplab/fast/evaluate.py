"""Whole-set evaluation in one pass: mean loss, accuracy and predicted labels, in large chunks through BLAS.

Batch size 1 is where per-step overhead dominates; evaluation has no such problem (one matrix product per
layer per chunk), so it runs through the modules' own evaluation-mode ``forward`` (no caches stored) and
NumPy's BLAS, which is also why both engines report identical evaluation numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.losses import Loss
from ..nn.module import Module

EVAL_CHUNK = 4096


def evaluate_all(model: Module, loss: Loss, X: Any, y: Any, batch_size: int = EVAL_CHUNK) -> dict[str, Any]:
    """``{"loss": mean loss, "accuracy": fraction, "n": N, "predictions": (N,) int64}`` over all of ``(X, y)``.

    The loss of each chunk is weighted by its size, so the result does not depend on ``batch_size``;
    predictions are the argmax of the outputs, accuracy compares them with the labels (or the argmax of
    target rows).
    """
    n = len(X)
    if n == 0 or len(y) != n:
        raise ValueError(f"evaluate_all needs equally long, non-empty X and y; got {n} and {len(y)} rows")
    predictions = np.empty(n, dtype=np.int64)
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for s in range(0, n, max(1, int(batch_size))):
            xb, yb = X[s:s + batch_size], y[s:s + batch_size]
            out = model.forward(xb, training=False)
            total += loss.forward(out, yb) * len(xb)
            np.argmax(out, axis=1, out=predictions[s:s + len(xb)])
    labels = y if np.ndim(y) == 1 else np.argmax(y, axis=1)
    return {"loss": total / n, "accuracy": float(np.mean(predictions == labels)), "n": n,
            "predictions": predictions}
