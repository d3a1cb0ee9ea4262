"""npnn's ``Dataset`` (``dataset.py``): an iterator over shuffled mini-batches with one-hot labels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ...errors import ShapeError
from ...nn import one_hot
from .._global_rng import global_rng


class Dataset:
    """Mini-batches of ``(X, y)`` for one epoch per iteration, as the course's ``Dataset(X, y, batch_size)``.

    Each ``iter(dataset)`` draws a fresh permutation from NumPy's global generator
    (``np.random.permutation(N)``), keeps its first ``size * batch_size`` indices (``size = N // batch_size``:
    the remainder is left out of that epoch, as in the course) and yields ``(X[batch], y[batch])``. The index
    matrix of the last epoch is kept as ``indices`` ``(size, batch_size)``.

    Args:
        X: inputs ``(N, features)``.
        y: one-hot labels ``(N, classes)`` (the course's), or integer labels ``(N,)``, which are one-hot encoded
            in X's float dtype with ``num_classes`` columns (default: the largest label + 1).
        batch_size: examples per batch (the course's default 16).
    """

    def __init__(self, X: Any, y: Any, batch_size: int = 16, num_classes: int | None = None) -> None:
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2:
            raise ShapeError(f"Dataset X must be 2-D (N, features); got shape {X.shape}")
        if y.shape[:1] != X.shape[:1] or y.ndim not in (1, 2):
            raise ShapeError(
                f"Dataset y must be one-hot rows ({X.shape[0]}, classes) or labels ({X.shape[0]},); got shape {y.shape}"
            )
        if int(batch_size) < 1 or int(batch_size) > X.shape[0]:
            raise ValueError(f"batch_size must be in 1..{X.shape[0]} (the number of examples); got {batch_size}")
        if y.ndim == 1:
            if not np.issubdtype(y.dtype, np.integer):
                raise ValueError(f"1-D labels must be integers; got dtype {y.dtype}")
            k = int(num_classes) if num_classes is not None else int(y.max()) + 1
            y = one_hot(y, k, X.dtype if X.dtype.kind == "f" else np.float64)
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.size = X.shape[0] // self.batch_size
        self.indices: np.ndarray | None = None

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = global_rng().permutation(self.X.shape[0])[: self.size * self.batch_size]
        self.indices = order.reshape(self.size, self.batch_size)
        for batch in self.indices:
            yield self.X[batch], self.y[batch]

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"Dataset(X={self.X.shape}, y={self.y.shape}, batch_size={self.batch_size}, batches={self.size})"
